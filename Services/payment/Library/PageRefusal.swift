import Alipay
import Contracts
import Foundation
import Hummingbird
import Logging
import ServiceKit
import Signing

/// An HTML page that answers a refused page request.
struct PageRefusal: Error {
    let page: Response
}
