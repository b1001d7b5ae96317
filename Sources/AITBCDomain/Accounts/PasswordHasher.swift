/// Turns passwords into slow, salted hashes and checks them; injected so the domain does not pick
/// the algorithm (the dashboard uses bcrypt) and tests can make it cheap.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, against hash: String) async throws -> Bool
}
