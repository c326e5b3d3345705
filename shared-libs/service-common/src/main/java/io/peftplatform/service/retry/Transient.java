package io.peftplatform.service.retry;

import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.function.Predicate;
import org.apache.kafka.common.errors.RetriableException;

/**
 * Whether a failure may pass if the same thing is tried again later: anywhere in its cause chain a lost
 * or refused connection, a timeout, a database that is starting, stopping or out of connections, or an
 * error Kafka itself calls retriable. Everything else (bad input, a bug, a poison message) is permanent
 * and is not retried. Also a {@code Predicate}, for {@code @RetryWhen(exception = Transient.class)}.
 */
public final class Transient implements Predicate<Throwable> {
  @Override
  public boolean test(Throwable t) {
    return is(t);
  }

  public static boolean is(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof ConnectException || c instanceof SocketException || c instanceof InterruptedIOException
          || c instanceof UnknownHostException || c instanceof RetriableException
          || c instanceof java.util.concurrent.TimeoutException
          || c instanceof SQLTransientException || c instanceof SQLRecoverableException) {
        return true;
      }
      if (c instanceof SQLException sql && transientState(sql)) {
        return true;
      }
      if (c.getClass().getName().equals("org.hibernate.exception.JDBCConnectionException")) {
        return true;
      }
    }
    return false;
  }

  /**
   * PostgreSQL's SQLSTATE classes for a connection problem (08), too many connections or out of
   * resources (53), an administrator shutting the server down (57P), a serialization failure or
   * deadlock (40001, 40P01); and the pool's own "no connection in time".
   */
  private static boolean transientState(SQLException e) {
    String state = e.getSQLState();
    if (state == null) {
      String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
      return m.contains("acquisition timeout") || m.contains("connection is closed") || m.contains("this connection has been closed");
    }
    return state.startsWith("08") || state.startsWith("53") || state.startsWith("57P") || state.equals("40001") || state.equals("40P01");
  }
}
