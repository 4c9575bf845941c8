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

    /// `POST /wms/reservations/{key}/locks`: several flash-sale orders' locks carved from one
    /// reservation; each order's answer, in the request's order.
    package func lock(_ request: ReservationLocks, from key: String) async throws -> [ReservationLockAnswer] {
        let (status, vo) = try await call.send(
            .POST, "/wms/reservations/\(pathSegment(key))/locks", body: request, as: [ReservationLockAnswer].self)
        guard status == 200, vo.code == ResponseCode.ok, let answers = vo.data,
              answers.map(\.orderSn) == request.orders.map(\.orderSn)
        else { throw call.failure(status, vo.msg) }
        return answers
    }

    /// `POST /wms/reservations`: sets stock aside under a key (idempotent on the key).
    package func reserve(_ request: ReservationRequest) async throws -> ReservationState {
        let (status, vo) = try await call.send(.POST, "/wms/reservations", body: request, as: ReservationState.self)
        guard status == 200, let state = vo.data else { throw call.failure(status, vo.msg) }
        return state
    }

    /// How a release request ended.
    package enum ReleaseAnswer: Sendable, Equatable {
        case released(ReservationState)
        /// Some of the `wins` have no lock yet (their orders are still being made): nothing released.
        case unsettled
        case notFound
    }

    /// `POST /wms/reservations/{key}/release`: the unsold rest goes back (idempotent) once every one
    /// of the caller's `wins` unreleased wins holds its lock.
    package func releaseReservation(key: String, wins: Int) async throws -> ReleaseAnswer {
        let (status, vo) = try await call.send(
            .POST, "/wms/reservations/\(pathSegment(key))/release", body: ReservationRelease(wins: wins), as: ReservationState.self)
        switch (status, vo.code) {
        case (200, ResponseCode.ok):
            guard let state = vo.data else { throw call.failure(status, "no reservation in the answer") }
            return .released(state)
        case (409, WareCode.unsettled): return .unsettled
        case (404, _): return .notFound
        default: throw call.failure(status, vo.msg)
        }
    }
}
