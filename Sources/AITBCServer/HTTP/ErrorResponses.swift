import Foundation
import AITBCDomain
import AITBCWire
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The one place where errors become responses of the contract's shape.
enum ErrorResponses {
    /// The response for any error a handler or middleware threw.
    static func response(for error: any Error, logger: Logger) -> Response {
        switch error {
        case let error as CoordinatorError:
            return response(for: error)
        case let error as HTTPError:
            return response(for: translate(error.status, message: error.body))
        case is NIOTooManyBytesError:
            return response(for: payloadTooLarge)
        case let error as any HTTPResponseError:
            return response(for: translate(error.status, message: nil))
        default:
            logger.error("unhandled error", metadata: ["error.type": "\(type(of: error))"])
            return response(
                for: CoordinatorError(.internalError, code: "INTERNAL_ERROR", message: "An internal error occurred"))
        }
    }

    static let payloadTooLarge = CoordinatorError(
        .payloadTooLarge, code: "PAYLOAD_TOO_LARGE", message: "The request body is larger than the server accepts")

    static func translate(_ status: HTTPResponse.Status, message: String?) -> CoordinatorError {
        switch status.code {
        case 404: return CoordinatorError(.notFound, code: "NOT_FOUND", message: "No route matches this path")
        case 405: return CoordinatorError(.methodNotAllowed, code: "METHOD_NOT_ALLOWED", message: "This path does not accept this method")
        case 413: return payloadTooLarge
        case 400..<500:
            return CoordinatorError(.invalidRequest, code: "INVALID_REQUEST", message: message ?? "The request is invalid")
        default:
            return CoordinatorError(.internalError, code: "INTERNAL_ERROR", message: "An internal error occurred")
        }
    }

    static func status(of kind: CoordinatorError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidRequest: return .badRequest
        case .unauthorized: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .conflict: return .conflict
        case .payloadTooLarge: return .contentTooLarge
        case .notReady: return .init(code: 425, reasonPhrase: "Too Early")
        case .rateLimited: return .tooManyRequests
        case .unavailable: return .serviceUnavailable
        case .internalError: return .internalServerError
        }
    }

    static func response(for error: CoordinatorError) -> Response {
        let body = ErrorBody(code: error.code, message: error.message, details: error.details)
        var response = Response(
            status: status(of: error.kind), headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: body.jsonBuffer()))
        if case .rateLimited(let retryAfter) = error.kind {
            response.headers[.retryAfter] = String(max(1, retryAfter))
        }
        return response
    }
}

/// JSON responses written with the shared wire encoder.
enum JSONResponse {
    static let encoder = RFC3339.makeEncoder()

    /// A JSON response that carries a secret: no cache (a browser's, a proxy's) may keep it.
    static func makeWithSecret(status: HTTPResponse.Status = .ok, _ value: some Encodable) -> Response {
        var response = make(status: status, value)
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("Pragma")!] = "no-cache"
        return response
    }

    static func make(status: HTTPResponse.Status = .ok, _ value: some Encodable) -> Response {
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"code":"INTERNAL_ERROR","message":"encoding failed","details":{}}}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
