// A line chart over uPlot (loaded by index.html as the global uPlot): x is the step, one line per series.
import { useEffect, useRef } from 'preact/hooks';
import { html } from './ui.js';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea'];

/**
 * series: [{label, scale?}], data: [xs, ys1, ys2, …] (null where a series has no point). The element
 * carries data-points (the x values drawn) so a test can count what is shown.
 */
export function LineChart({ title, series, data, height = 260, scales }) {
  const box = useRef();
  const plot = useRef();
  useEffect(() => {
    const el = box.current;
    const axes = [{ label: 'step' }];
    const used = [...new Set(series.map((s) => s.scale || 'y'))];
    used.forEach((scale, i) => axes.push({ scale, label: scales?.[scale] || '', side: i === 0 ? 3 : 1, grid: { show: i === 0 }, size: 64 }));
    const opts = {
      title,
      width: Math.max(200, el.clientWidth),
      height,
      scales: { x: { time: false } },
      series: [{ label: 'step' }, ...series.map((s, i) => ({ label: s.label, scale: s.scale || 'y', stroke: COLORS[i % COLORS.length],
        width: 2, spanGaps: true, points: { show: true, size: 4 } }))],
      axes,
      legend: { live: true },
    };
    plot.current = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.current.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current.destroy();
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  // The canvas says nothing to a screen reader: the caption gives the latest value of each line.
  const last = (ys) => [...ys].reverse().find((y) => y != null);
  const latest = series.map((s, i) => (last(data[i + 1]) == null ? null : `${s.label} ${Number(last(data[i + 1]).toPrecision(4))}`)).filter(Boolean);
  return html`<figure class="chart">
    <div ref=${box} class="chart-box" data-points=${data[0].length} aria-hidden="true"></div>
    <figcaption class="sr-only">${title}: ${data[0].length ? `${data[0].length} points up to step ${data[0][data[0].length - 1]}; latest ${latest.join(', ')}` : 'no points yet'}</figcaption>
  </figure>`;
}
