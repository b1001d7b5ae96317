import AITBCDomain
import Hummingbird
import NIOCore

/// `GET /metrics`: Prometheus text, for operator keys only.
struct MetricsController {
    let coordinator: Coordinator
    let metrics: ServerMetrics

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.on("", method: .get) { _, context in
            guard context.principal.isOperator else {
                throw CoordinatorError.insufficientScope("Only operator keys may read /metrics")
            }
            let text = await metrics.render(coordinator: coordinator)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
