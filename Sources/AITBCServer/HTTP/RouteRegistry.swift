import HTTPTypes
import Hummingbird
import Synchronization

/// Registers routes on a group and remembers them, for the 405 check and the route listing.
final class RouteRegistry: Sendable {
    private let entries = Mutex<[(path: String, method: HTTPRequest.Method)]>([])

    /// Adds `handler` for `method` on `prefix` + `path` to `group`.
    /// `documentedAs` names the path as the API documents it, when the router needs another
    /// parameter name (its trie cannot tell apart two captures at one position).
    func on<Context: RequestContext>(
        _ group: RouterGroup<Context>, prefix: String, _ method: HTTPRequest.Method, _ path: String,
        documentedAs documented: String? = nil,
        use handler: @Sendable @escaping (Request, Context) async throws -> Response
    ) {
        group.on(RouterPath(path), method: method, use: handler)
        let shown = documented ?? path
        let full = prefix + (shown.isEmpty ? "" : "/" + shown)
        entries.withLock { $0.append((full, method)) }
    }

    /// Adds `handler` for `method` on `path` to `router`.
    func on<Context: RequestContext>(
        _ router: Router<Context>, _ method: HTTPRequest.Method, _ path: String,
        use handler: @Sendable @escaping (Request, Context) async throws -> Response
    ) {
        router.on(RouterPath(path), method: method, use: handler)
        entries.withLock { $0.append((path, method)) }
    }

    /// Everything registered so far.
    var routes: [(path: String, method: HTTPRequest.Method)] { entries.withLock { $0 } }
}
