import AITBCDomain
import AITBCWire
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /health` (the process answers) and `GET /ready` (storage answers too).
struct HealthController {
    let store: any StorageHealth
    let lifecycle: Lifecycle

    // Prebuilt once: /health is the baseline every benchmark ratio is taken against.
    static let healthBody = ByteBuffer(string: #"{"status":"ok"}"#)

    func addRoutes(to router: Router<CoordinatorRequestContext>) {
        router.on("/health", method: .get) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: Self.healthBody))
        }
        router.on("/ready", method: .get) { _, _ in
            guard !lifecycle.isDraining else {
                throw CoordinatorError.draining
            }
            guard await store.isHealthy() else { throw CoordinatorError.storageUnavailable }
            return JSONResponse.make(HealthView(status: "ready"))
        }
    }
}
