import Foundation
import Signing
import Synchronization

/// The calling side: the current token from `caller` to `callee`, minted again when half its
/// life is gone.
package final class ServiceCredential: Sendable {
    package let caller: String
    package let callee: String
    private let key: [UInt8]?
    private let current = Mutex<(token: String, renewAt: Date)?>(nil)

    package init(caller: String, callee: String, key: [UInt8]?) {
        self.caller = caller
        self.callee = callee
        self.key = key
    }

    package func token(now: Date = Date()) throws -> String {
        guard let key else { throw UpstreamError(service: caller, status: nil, message: "no service key configured (GMALL_SERVICE_KEY)") }
        return current.withLock { current in
            if let current, current.renewAt > now { return current.token }
            let token = ServiceToken.mint(caller: caller, callee: callee, key: key, now: now)
            current = (token, now.addingTimeInterval(ServiceToken.lifetime / 2))
            return token
        }
    }
}
