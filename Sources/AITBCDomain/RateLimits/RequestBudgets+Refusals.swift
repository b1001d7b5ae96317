/// Requests refused after authentication but before any budget was asked (an address outside the
/// key's allow-list): they cost no budget, but the key's usage shows them.
extension RequestBudgets {
    /// Counts a request of `principal` from `address` that was refused before it was charged, as an error.
    public func countRefused(_ principal: Principal, from address: String?) {
        usage.record(keyID: principal.key.id, outcome: .refused, at: time.now(), from: address)
    }
}
