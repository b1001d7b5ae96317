import AITBCDomain
import AITBCWire
import Foundation
import Hummingbird
import NIOCore

/// Signed receipts: a job's (`GET /v1/jobs/{job_id}/receipt`, `…/receipts`), visible as the job is,
/// and the public keys they verify with (`GET /v1/receipts/keys`, no key needed).
///
/// A receipt is written as the canonical JSON it was signed over (nulls kept), so the text a client
/// reads back is exactly what it verifies.
struct ReceiptController {
    let jobs: JobService
    let receipts: ReceiptKeyring

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.on("jobs/{job_id}/receipt", method: .get) { request, context in
            let job = try await jobs.get(try request.parameter("job_id", in: context), by: context.principal)
            guard let receipt = job.receipt else {
                throw CoordinatorError.notFound(
                    .notFound, "This job has no receipt yet: one is issued when the job completes or fails")
            }
            return Self.response(CanonicalJSON.string(.object(receipt), removingNulls: false))
        }
        group.on("jobs/{job_id}/receipts", method: .get) { request, context in
            let job = try await jobs.get(try request.parameter("job_id", in: context), by: context.principal)
            let items = job.receipt.map { [JSONValue.object($0)] } ?? []
            return Self.response(CanonicalJSON.string(.object(["items": .array(items)]), removingNulls: false))
        }
    }

    /// The public route: added to the router itself, outside the `/v1` group's key middleware.
    func addPublicRoutes(to router: Router<CoordinatorRequestContext>) {
        router.on("/v1/receipts/keys", method: .get) { _, _ in
            let current = receipts.currentKeyID
            let keys = try await receipts.keys().map {
                ReceiptKeyView(keyID: $0.keyID, publicKey: $0.keyID, createdAt: $0.createdAt, current: $0.keyID == current)
            }
            var response = JSONResponse.make(ItemList(items: keys))
            response.headers[.cacheControl] = "public, max-age=60"
            return response
        }
    }

    private static func response(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
