import HTTPTypes
import Hummingbird
import Synchronization

/// The paths and methods the router serves, so an unknown method on a known path is 405, not 404.
final class RouteTable: Sendable {
    private let routes: [(segments: [Substring], method: HTTPRequest.Method)]

    init(_ routes: [(path: String, method: HTTPRequest.Method)]) {
        self.routes = routes.map { (segments: $0.path.split(separator: "/"), method: $0.method) }
    }

    /// The methods registered for paths matching `path` (`{param}` segments match anything).
    func methods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        return routes.filter { route in
            route.segments.count == segments.count
                && zip(route.segments, segments).allSatisfy { pattern, segment in
                    pattern.hasPrefix("{") || pattern.hasPrefix(":") || pattern == segment
                }
        }.map(\.method)
    }
}

/// Holds the route table, set once after the routes are registered.
final class RouteTableBox: Sendable {
    private let table = Mutex<RouteTable?>(nil)

    func set(_ value: RouteTable) { table.withLock { $0 = value } }

    func methods(for path: String) -> [HTTPRequest.Method] {
        table.withLock { $0 }?.methods(for: path) ?? []
    }
}
