import Contracts
import Hummingbird
import ServiceKit

/// wms's HTTP side. Nothing of wms is public: stock locks and reservations are internal routes
/// that only oms and seckill may call (service token; a batch of flash-sale locks only oms),
/// answered through `WareClient`'s types.
struct WareRoutes: Sendable {
    let warehouse: Warehouse

    func register(internal router: Router<ShopRequestContext>, serviceKey: [UInt8]?) {
        let calls = router.group().add(middleware: ServiceAuthMiddleware(service: "wms", key: serviceKey, callers: ["oms", "seckill"]))
        calls.post("/wms/lock", use: lock)
        calls.post("/wms/reservations", use: reserve)
        calls.post("/wms/reservations/:key/release", use: release)
        // Only oms makes flash-sale orders; seckill has no business carving their locks.
        router.group().add(middleware: ServiceAuthMiddleware(service: "wms", key: serviceKey, callers: ["oms"]))
            .post("/wms/reservations/:key/locks", use: carve)
    }

    @Sendable func lock(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(as: StockLockRequest.self, context: context)
        return try await Self.answer { try await warehouse.lock(body) }
    }

    /// Several flash-sale orders' locks from one reservation: each order's answer in the body
    /// (a shortage or a released lock is an answer, not a refusal of the call).
    @Sendable func carve(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let key = try context.parameters.require("key")
        let body = try await request.decodeJSON(as: ReservationLocks.self, context: context)
        return try await Self.answer { try await warehouse.lock(body, from: key) }
    }

    @Sendable func reserve(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(as: ReservationRequest.self, context: context)
        return try await Self.answer { try await warehouse.reserve(body) }
    }

    /// `ResponseVo.ok` of what `body` returns; the warehouse's refusals as 409s with their
    /// `WareCode` (what `WareClient` reads back).
    static func answer<T: Codable & Sendable>(_ body: () async throws -> T) async throws -> Response {
        do {
            return try ShopJSON.response(ResponseVo.ok(try await body()))
        } catch let shortage as StockShortage {
            throw ShopError(status: .conflict, code: WareCode.shortage, message: shortage.description)
        } catch let released as LockReleased {
            throw ShopError(status: .conflict, code: WareCode.released, message: released.description)
        } catch let unsettled as ReservationUnsettled {
            throw ShopError(status: .conflict, code: WareCode.unsettled, message: unsettled.description)
        }
    }

    @Sendable func release(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let key = try context.parameters.require("key")
        try Input.key(key)
        let body = try await request.decodeJSON(as: ReservationRelease.self, context: context)
        try body.validate()
        return try await Self.answer {
            guard let state = try await warehouse.releaseReservation(key, wins: body.wins) else { throw ShopError.notFound("no such reservation") }
            return state
        }
    }
}
