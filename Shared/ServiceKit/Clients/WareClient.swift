import AsyncHTTPClient
import Contracts

/// wms's internal API, as oms and seckill call it (`WareRoutes` is the other side).
package struct WareClient: Sendable {
    private let call: InternalCall

    package init(baseURL: String, http: HTTPClient, credential: ServiceCredential) {
        call = InternalCall(service: "wms", baseURL: baseURL, http: http, credential: credential)
    }

    /// How a lock request ended.
    package enum LockAnswer: Sendable, Equatable {
        case locked([LockLine])
        /// Not enough free stock (or left in the reservation): nothing was locked.
        case shortage
        /// The order's lock was released earlier (it closed): it is never locked again.
        case released
    }

    /// `POST /wms/lock`: every line or none.
    package func lock(_ request: StockLockRequest) async throws -> LockAnswer {
        let (status, vo) = try await call.send(.POST, "/wms/lock", body: request, as: [LockLine].self)
        switch (status, vo.code) {
        case (200, ResponseCode.ok): return .locked(vo.data ?? [])
        case (409, WareCode.shortage): return .shortage
        case (409, WareCode.released): return .released
        default: throw call.failure(status, vo.msg)
        }
    }

    /// `POST /wms/reservations`: sets stock aside under a key (idempotent on the key).
    package func reserve(_ request: ReservationRequest) async throws -> ReservationState {
        let (status, vo) = try await call.send(.POST, "/wms/reservations", body: request, as: ReservationState.self)
        guard status == 200, let state = vo.data else { throw call.failure(status, vo.msg) }
        return state
    }

    /// `POST /wms/reservations/{key}/release`: the unsold rest goes back (idempotent); nil when
    /// wms has no such reservation.
    package func releaseReservation(key: String) async throws -> ReservationState? {
        let (status, vo) = try await call.send(.POST, "/wms/reservations/\(pathSegment(key))/release", as: ReservationState.self)
        if status == 404 { return nil }
        guard status == 200, let state = vo.data else { throw call.failure(status, vo.msg) }
        return state
    }
}

/// `ResponseVo.code`s of wms's 409 answers.
package enum WareCode {
    package static let shortage = 409
    package static let released = 4091
}
