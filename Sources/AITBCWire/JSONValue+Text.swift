extension JSONValue {
    /// A number's JSON text as Python's `json.dumps` writes it: an integer in full however large,
    /// a float as `repr(float)` (`2.0`, `-0.0`, `1e+16`, `1e-07`, `0.1`); nil for anything else and
    /// for a non-finite double (which every writer here writes as `null`).
    public var numberText: String? {
        switch self {
        case .int(let number): String(number)
        case .largeInteger(let text): text
        case .double(let number): number.isFinite ? CanonicalJSON.pythonRepr(number) : nil
        default: nil
        }
    }

    /// The number text Foundation's `JSONEncoder` cannot write itself: a large integer's, a finite double's.
    var rawNumberText: String? {
        switch self {
        case .largeInteger(let text): text
        case .double(let number): number.isFinite ? CanonicalJSON.pythonRepr(number) : nil
        default: nil
        }
    }

    /// The value as JSON text with sorted keys and `null`s kept: what storage keeps. Numbers are
    /// written as ``numberText`` says, so the text reads back to an equal value.
    public var jsonText: String { CanonicalJSON.string(self, removingNulls: false) }
}
