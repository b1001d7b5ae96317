import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON responses written with the shared wire encoder.
enum JSONResponse {
    /// Writes job payloads' numbers exactly as they came (see ``JSONRawNumbers``).
    static let encoder = JSONRawNumbers.makeEncoder(RFC3339.makeEncoder())

    /// What a response says when its value cannot be encoded (it never should).
    static let encodingFailed = ErrorBody(code: .internalError, message: "encoding failed").jsonBuffer()

    /// A JSON response that carries a secret: no cache (a browser's, a proxy's) may keep it.
    static func makeWithSecret(status: HTTPResponse.Status = .ok, _ value: some Encodable) -> Response {
        var response = make(status: status, value)
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("Pragma")!] = "no-cache"
        return response
    }

    /// `value` as JSON with `status`.
    static func make(status: HTTPResponse.Status = .ok, _ value: some Encodable) -> Response {
        make(status: status, body: (try? JSONRawNumbers.shared.encode(value, with: encoder)).map { ByteBuffer(bytes: $0) } ?? encodingFailed)
    }

    /// A job as JSON with `status`, written by hand (the job routes answer with one on every call).
    static func make(status: HTTPResponse.Status = .ok, _ view: JobView) -> Response {
        make(status: status, body: view.jsonBuffer())
    }

    /// A miner's assigned job as JSON, written by hand (every poll that gets work answers with one).
    static func make(status: HTTPResponse.Status = .ok, _ view: AssignedJobView) -> Response {
        make(status: status, body: view.jsonBuffer())
    }

    private static func make(status: HTTPResponse.Status, body: ByteBuffer) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: body))
    }
}
