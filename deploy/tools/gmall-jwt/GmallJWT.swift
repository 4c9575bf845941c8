import ArgumentParser
import Foundation
import Signing

/// Mints an RS256 JWT for a member id with the local cluster's dev key, so a person (or a
/// benchmark) can act as a logged-in buyer: `gmall-jwt 1001`.
@main
struct GmallJWT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gmall-jwt", abstract: "Mint a local buyer token (RS256) for a member id.")

    @Argument(help: "The member id (JWT sub).")
    var userID: Int64

    @Option(help: "PEM or base64 PKCS#8 private key file (default: the local cluster's dev key).")
    var key: String = ProcessInfo.processInfo.environment["GMALL_JWT_PRIVATE_KEY_FILE"] ?? ".cluster/keys/jwt_private.pem"

    @Option(help: "Lifetime in seconds.")
    var ttl: Int = 86400

    @Flag(help: "Print a curl cookie argument instead of the bare token.")
    var cookie = false

    @Option(help: "Mint tokens for this many consecutive member ids, one per line (load tests).")
    var count: Int = 1

    func run() throws {
        let text = try String(contentsOfFile: key, encoding: .utf8)
        let signer = JWTSigner(privateKey: try RSAPrivateKey(text: text))
        for id in userID..<(userID + Int64(max(count, 1))) {
            let token = try signer.token(userID: id, validFor: TimeInterval(ttl))
            print(cookie ? "GMALL-TOKEN=\(token)" : token)
        }
    }
}
