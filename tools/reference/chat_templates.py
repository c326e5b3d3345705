#!/usr/bin/python3
"""Renders chat templates with Python's jinja2, configured as Hugging Face's apply_chat_template
configures it, and writes the results as a fixture the Java ChatTemplate must reproduce.

Run: /usr/bin/python3 tools/reference/chat_templates.py  (Debian: apt install python3-jinja2)
Writes: shared-libs/text/src/test/resources/chat-templates.json
"""
import json
import pathlib

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

OUT = pathlib.Path(__file__).resolve().parents[2] / "shared-libs/text/src/test/resources/chat-templates.json"


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    return env


# Templates in the styles found on the Hub (written for this test, not copied from any model).
TEMPLATES = {
    "chatml": (
        "{% for message in messages %}"
        "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    ),
    "header-style-with-whitespace-control": (
        "{{- bos_token }}\n"
        "{%- for message in messages %}\n"
        "    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}\n"
        "{%- endfor %}\n"
        "{%- if add_generation_prompt %}\n"
        "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
        "{%- endif %}\n"
    ),
    "inst-style-alternating": (
        "{{ bos_token }}"
        "{% for message in messages %}"
        "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant') }}"
        "{% endif %}"
        "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
        "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}"
        "{% endfor %}"
    ),
    "default-system-namespace-loop": (
        "{% set ns = namespace(system='You are a helpful assistant.') %}"
        "{% for message in messages %}{% if message.role == 'system' %}{% set ns.system = message.content.strip() %}{% endif %}{% endfor %}"
        "<<SYS>>{{ ns.system }}<</SYS>>\n"
        "{% for message in messages %}{% if message.role != 'system' %}"
        "{% if loop.index0 == 1 %}[first]{% endif %}"
        "{{ message.role | upper }}: {{ message.content }}{% if not loop.last %}\n{% endif %}"
        "{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}\nASSISTANT:{% endif %}"
    ),
}

CONVERSATIONS = {
    "with-system": [
        {"role": "system", "content": "  Be brief.  "},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
    ],
    "two-turns": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke, \"please\"."},
        {"role": "assistant", "content": "Why did the tensor cross the road? To broadcast."},
    ],
    "open-question": [
        {"role": "user", "content": "Ünïcödé and 😀?"},
    ],
}


def main():
    env = environment()
    cases = []
    for tname, source in TEMPLATES.items():
        for cname, messages in CONVERSATIONS.items():
            for gen in (False, True):
                case = {
                    "name": f"{tname}/{cname}/gen={gen}",
                    "template": source,
                    "messages": messages,
                    "add_generation_prompt": gen,
                    "bos_token": "<s>",
                    "eos_token": "</s>",
                }
                try:
                    case["expected"] = env.from_string(source).render(
                        messages=messages, add_generation_prompt=gen, bos_token="<s>", eos_token="</s>")
                except jinja2.exceptions.TemplateError as e:
                    case["error"] = str(e)
                cases.append(case)
    OUT.write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
