import Foundation
import PostgresNIO

extension PostgresStore {
    /// Where the database is, how to reach it, and how many connections to keep.
    public typealias Configuration = PostgresDatabase.Configuration
}

extension PostgresDatabase {
    /// Where the database is, how to reach it, and how many connections to keep.
    public struct Configuration: Sendable, Equatable {
        /// Whether the connection to the database is encrypted, named as libpq's `sslmode`.
        public enum TLSMode: String, Sendable, CaseIterable {
            /// Plain TCP (also when the URL names no `sslmode`).
            case disable
            /// TLS if the server offers it, without checking its certificate.
            case prefer
            /// TLS or no connection; the certificate is not checked.
            case require
            /// TLS with a certificate signed by a trusted root; the host name is not checked.
            case verifyCA = "verify-ca"
            /// TLS with a trusted certificate issued for the host.
            case verifyFull = "verify-full"
        }

        /// A `postgres://` URL that cannot be used, with the reason.
        public struct InvalidURL: Error, CustomStringConvertible {
            public var description: String
        }

        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        public var tls: TLSMode
        /// PEM file of the roots that sign the server's certificate (`sslrootcert`); nil: the system's.
        public var rootCertificatePath: String?
        /// Most connections the pool opens to the database.
        public var maximumConnections = 10
        /// Longest a TCP (and TLS) connection attempt may take (`connect_timeout`).
        public var connectTimeout: Duration = .seconds(2)
        /// Longest a call waits for a pooled connection before it fails as unavailable: when the
        /// database is down, callers get their 503 after this long rather than hanging.
        public var connectionWaitTimeout: Duration = .seconds(2)
        /// Longest a statement may go unanswered (the `query_timeout` URL parameter). Past it the
        /// statement fails, the connection is closed and the call fails as unavailable: a database
        /// cut off by the network, whose connections neither answer nor close, must not hang
        /// requests for the minutes TCP takes to notice. The server is given 80 % of it as its
        /// `statement_timeout` and `idle_in_transaction_session_timeout`, so it gives up first and
        /// frees the locks of a client it lost. (PgBouncer refuses unknown startup parameters unless
        /// they are in its `ignore_startup_parameters`, and then drops them: the client's own
        /// deadline still holds.)
        public var queryTimeout: Duration = .seconds(5)

        public init(
            host: String, port: Int = 5432, username: String, password: String?, database: String, tls: TLSMode = .disable
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
        }

        /// The URL schemes that name PostgreSQL.
        public static let schemes = ["postgres", "postgresql"]

        /// Whether `url` names PostgreSQL (it may still be invalid).
        public static func isPostgresURL(_ url: String) -> Bool {
            schemes.contains { url.lowercased().hasPrefix($0 + "://") }
        }

        /// Reads `postgres://user:password@host:port/database?sslmode=…&sslrootcert=…&connect_timeout=…&query_timeout=…`
        /// (also `postgresql://`); user and password are percent-decoded.
        public init(url: String) throws {
            let format = "postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=disable|prefer|require|verify-ca|verify-full]"
            guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
                Self.schemes.contains(scheme)
            else {
                throw InvalidURL(description: "AITBC_DATABASE_URL is not a valid PostgreSQL URL; expected \(format)")
            }
            guard let host = components.host.map(Self.unbracketed), !host.isEmpty else {
                throw InvalidURL(description: "AITBC_DATABASE_URL names no host; expected \(format)")
            }
            guard let username = components.user, !username.isEmpty else {
                throw InvalidURL(description: "AITBC_DATABASE_URL names no user; expected \(format)")
            }
            let port = components.port ?? 5432
            guard (1...65535).contains(port) else {
                throw InvalidURL(description: "AITBC_DATABASE_URL has port \(port); it must be 1 … 65535")
            }
            var database = components.path
            if database.hasPrefix("/") { database.removeFirst() }
            guard !database.contains("/") else {
                throw InvalidURL(description: "AITBC_DATABASE_URL must name one database after the host, got \(database)")
            }
            self.init(
                host: host, port: port, username: username, password: components.password,
                database: database.isEmpty ? username : database)
            for item in components.queryItems ?? [] {
                let value = item.value ?? ""
                switch item.name {
                case "sslmode":
                    guard let mode = TLSMode(rawValue: value) else {
                        throw InvalidURL(
                            description: "AITBC_DATABASE_URL sslmode must be one of "
                                + TLSMode.allCases.map(\.rawValue).joined(separator: ", ") + ", got \(value)")
                    }
                    tls = mode
                case "sslrootcert":
                    guard FileManager.default.isReadableFile(atPath: value) else {
                        throw InvalidURL(description: "AITBC_DATABASE_URL sslrootcert: cannot read \(value)")
                    }
                    rootCertificatePath = value
                case "connect_timeout":
                    guard let seconds = Int(value), (1...600).contains(seconds) else {
                        throw InvalidURL(description: "AITBC_DATABASE_URL connect_timeout must be 1 … 600 seconds, got \(value)")
                    }
                    connectTimeout = .seconds(seconds)
                    connectionWaitTimeout = .seconds(seconds)
                case "query_timeout":
                    guard let seconds = Int(value), (1...600).contains(seconds) else {
                        throw InvalidURL(description: "AITBC_DATABASE_URL query_timeout must be 1 … 600 seconds, got \(value)")
                    }
                    queryTimeout = .seconds(seconds)
                default:
                    throw InvalidURL(
                        description: "AITBC_DATABASE_URL has the unsupported parameter \(item.name) "
                            + "(supported: sslmode, sslrootcert, connect_timeout, query_timeout)")
                }
            }
        }

        /// The URL without its password, for logs and messages.
        public var redacted: String {
            "postgres://\(username)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
                + (tls == .disable ? "" : "?sslmode=\(tls.rawValue)")
        }

        private static func unbracketed(_ host: String) -> String {
            host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        }

        /// The TLS settings of the client and its connections, or nil for plain TCP.
        func tlsConfiguration() -> TLSConfiguration? {
            guard tls != .disable else { return nil }
            var configuration = TLSConfiguration.makeClientConfiguration()
            // Closing a connection the database stopped answering waits this long for its goodbye
            // (the default is 5 s), and the connection goes back to the pool only once closed.
            configuration.shutdownTimeout = .milliseconds(250)
            switch tls {
            case .disable, .prefer, .require: configuration.certificateVerification = .none
            case .verifyCA: configuration.certificateVerification = .noHostnameVerification
            case .verifyFull: configuration.certificateVerification = .fullVerification
            }
            if let rootCertificatePath { configuration.trustRoots = .file(rootCertificatePath) }
            return configuration
        }

        /// The configuration of the connection pool.
        func clientConfiguration() -> PostgresClient.Configuration {
            let clientTLS: PostgresClient.Configuration.TLS =
                switch (tls, tlsConfiguration()) {
                case (.prefer, let configuration?): .prefer(configuration)
                case (_, let configuration?): .require(configuration)
                case (_, nil): .disable
                }
            var configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: clientTLS)
            configuration.options.maximumConnections = maximumConnections
            configuration.options.connectTimeout = connectTimeout
            // The server gives up too: on a statement, and on a transaction left idle by a client
            // that was cut off (its locks are freed rather than held until TCP notices). It gives
            // up first (at 80 %), so a statement that is merely slow fails with the server's error
            // on a connection that stays usable, rather than by the client closing it.
            let milliseconds = "\(max(1, Self.milliseconds(queryTimeout) * 4 / 5))"
            configuration.options.additionalStartupParameters = [
                ("statement_timeout", milliseconds), ("idle_in_transaction_session_timeout", milliseconds),
            ]
            return configuration
        }

        static func milliseconds(_ duration: Duration) -> Int64 {
            duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        }

        /// The configuration of a single connection outside the pool (migrations at open).
        func connectionConfiguration() throws -> PostgresConnection.Configuration {
            var connectionTLS = PostgresConnection.Configuration.TLS.disable
            if let tlsConfiguration = tlsConfiguration() {
                let context = try NIOSSLContext(configuration: tlsConfiguration)
                connectionTLS = tls == .prefer ? .prefer(context) : .require(context)
            }
            var configuration = PostgresConnection.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: connectionTLS)
            configuration.options.connectTimeout = .nanoseconds(
                connectTimeout.components.seconds * 1_000_000_000 + connectTimeout.components.attoseconds / 1_000_000_000)
            return configuration
        }
    }
}
