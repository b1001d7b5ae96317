import PostgresNIO

/// What went wrong talking to PostgreSQL, in words an operator can act on; never the password
/// or the values of a statement (postgres-nio's own description deliberately says nothing).
public struct PostgresFailure: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }

    /// Opening `configuration` failed because of `error`.
    init(opening configuration: PostgresStore.Configuration, _ error: any Error) {
        self.init("cannot open PostgreSQL at \(configuration.redacted): \(Self.reason(error))")
    }

    /// The connection closed before the statement was answered.
    static let connectionClosed = PostgresFailure("the connection closed before the statement was answered")

    /// The server accepted the TCP connection but did not complete the handshake in time.
    static func noHandshake(within timeout: Duration) -> PostgresFailure {
        PostgresFailure("the server did not complete the connection handshake within \(timeout)")
    }

    /// A call found no free connection in time: the database is down or every connection is busy.
    static func noConnection(within timeout: Duration) -> PostgresFailure {
        PostgresFailure(
            "no database connection became available within \(timeout): the database is down or unreachable, "
                + "or every pooled connection is busy")
    }

    /// A call held its connection for `timeout` without the database answering: the connection
    /// was closed (a database cut off by the network answers nothing and closes nothing).
    static func noAnswer(within timeout: Duration) -> PostgresFailure {
        PostgresFailure("the database did not answer within \(timeout): the connection was closed")
    }

    /// The server's message and SQLSTATE, or the connection problem behind `error`.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        // The pool nests the connection's error under its own, often of the same kind.
        if let inner = error.underlying as? PSQLError, inner.code == error.code { return reason(inner) }
        let underlying = error.underlying.map { ": " + reason($0) } ?? ""
        switch error.code {
        case .server:
            let message = error.serverInfo?[.message] ?? "the server reported an error"
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + state
        case .connectionError:
            return "cannot connect\(underlying)"
        case .sslUnsupported:
            return "the server does not offer TLS, which sslmode requires"
        case .failedToAddSSLHandler:
            return "TLS could not be set up\(underlying)"
        case .serverClosedConnection, .uncleanShutdown:
            return "the server closed the connection\(underlying)"
        default:
            return "\(error.code)\(underlying)"
        }
    }

    /// Whether `error` is the server refusing a statement (as opposed to no server to talk to).
    static func isStatementError(_ error: any Error) -> Bool {
        (error as? PSQLError)?.code == .server
    }

    /// The SQLSTATE of a statement the server refused.
    static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
