import AsyncHTTPClient
import Contracts

/// `ResponseVo.code`s of wms's 409 answers.
package enum WareCode {
    package static let shortage = 409
    package static let released = 4091
    package static let unsettled = 4092
}
