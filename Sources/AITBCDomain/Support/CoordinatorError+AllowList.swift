import AITBCWire

extension CoordinatorError {
    /// 403 `IP_NOT_ALLOWED`: the key may not be used from `address` (nil: the address is unknown).
    /// It names the caller's own address, never the ranges the key allows.
    public static func ipNotAllowed(_ address: String?) -> CoordinatorError {
        CoordinatorError(
            .forbidden, code: .ipNotAllowed,
            message: address == nil
                ? "This API key may be used only from certain addresses, and this request's address is unknown"
                : "This API key may not be used from this address",
            details: ["client_address": address.map { .string($0) } ?? .null])
    }
}
