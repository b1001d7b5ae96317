import Foundation

/// A self-signed certificate for localhost and 127.0.0.1, made with openssl for one test.
public enum TestCertificate {
    /// The paths of the PEM certificate and key.
    public static func make() throws -> (certificate: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aitbc-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let made = try ChildProcess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            environment: ProcessInfo.processInfo.environment)
        guard made.status == 0 else {
            throw Failure(description: "openssl could not make a test certificate: \(made.stderr)")
        }
        return (certificate, key)
    }

    /// Why no certificate could be made.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
}
