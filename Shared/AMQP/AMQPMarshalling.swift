import CRabbitMQ

// The C <-> Swift helpers over librabbitmq: every librabbitmq failure becomes an `AMQPError` here
// (`check`, `checkStatus`), and Swift strings, bytes and tables are lent to C or copied out of it.

/// Turns an `amqp_rpc_reply_t` into success or a typed error.
func check(_ state: amqp_connection_state_t, _ reply: amqp_rpc_reply_t, _ what: String) throws {
    switch reply.reply_type {
    case AMQP_RESPONSE_NORMAL:
        return
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        throw AMQPError(kind: .connection, message: "\(what): \(String(cString: amqp_error_string2(reply.library_error)))")
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if reply.reply.id == gmall_method_channel_close() {
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            throw AMQPError(kind: .broker, message: "\(what): channel closed \(close.reply_code) \(string(close.reply_text))")
        }
        if reply.reply.id == gmall_method_connection_close() {
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            throw AMQPError(kind: .broker, message: "\(what): connection closed \(close.reply_code) \(string(close.reply_text))")
        }
        throw AMQPError(kind: .broker, message: "\(what): server exception \(reply.reply.id)")
    default:
        throw AMQPError(kind: .connection, message: "\(what): no reply")
    }
}

/// Turns a librabbitmq status code into success or a typed (`.connection`) error.
func checkStatus(_ status: Int32, _ what: String) throws {
    guard status == AMQP_STATUS_OK.rawValue else {
        throw AMQPError(kind: .connection, message: "\(what): \(String(cString: amqp_error_string2(status)))")
    }
}

/// The message's headers that are text or numbers, as strings (other kinds are skipped).
func textHeaders(_ properties: amqp_basic_properties_t) -> [String: String] {
    guard properties._flags & gmall_flag_headers() != 0 else { return [:] }
    var headers: [String: String] = [:]
    var buffer = [CChar](repeating: 0, count: 1024)
    for i in 0..<Int(properties.headers.num_entries) {
        let entry = gmall_amqp_table_at(properties.headers, Int32(i))!
        if gmall_amqp_entry_text(entry, &buffer, buffer.count) == 1 {
            headers[string(entry.pointee.key)] = String(cString: buffer)
        }
    }
    return headers
}

func string(_ bytes: amqp_bytes_t) -> String {
    guard let base = bytes.bytes, bytes.len > 0 else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: base, count: bytes.len), as: UTF8.self)
}

func bytes(_ bytes: amqp_bytes_t) -> [UInt8] {
    guard let base = bytes.bytes, bytes.len > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: base, count: bytes.len))
}

/// Lends `amqp_bytes_t` views of Swift strings for the duration of `body`.
func withBytes<R>(_ a: String, _ body: (amqp_bytes_t) throws -> R) rethrows -> R {
    var a = a
    return try a.withUTF8 { pa in try body(gmall_amqp_bytes(pa.baseAddress, pa.count)) }
}

func withBytes<R>(_ a: String, _ b: String, _ body: (amqp_bytes_t, amqp_bytes_t) throws -> R) rethrows -> R {
    try withBytes(a) { ba in try withBytes(b) { bb in try body(ba, bb) } }
}

func withBytes<R>(_ a: String, _ b: String, _ c: String, _ body: (amqp_bytes_t, amqp_bytes_t, amqp_bytes_t) throws -> R) rethrows -> R {
    try withBytes(a, b) { ba, bb in try withBytes(c) { bc in try body(ba, bb, bc) } }
}

func withBytes<R>(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String, _ body: (amqp_bytes_t, amqp_bytes_t, amqp_bytes_t, amqp_bytes_t, amqp_bytes_t) throws -> R) rethrows -> R {
    try withBytes(a, b, c) { ba, bb, bc in try withBytes(d, e) { bd, be in try body(ba, bb, bc, bd, be) } }
}

/// Lends an `amqp_table_t` built from `arguments` for the duration of `body`.
func withTable<R>(_ arguments: [String: AMQPArgument], _ body: (amqp_table_t) throws -> R) rethrows -> R {
    let keys = arguments.keys.sorted()
    // Copies that live until the end of this function.
    let keyStorage = keys.map { Array($0.utf8) }
    let valueStorage = keys.map { key -> [UInt8] in
        if case .string(let s) = arguments[key]! { return Array(s.utf8) }
        return []
    }
    return try keyStorage.withUnsafeBufferPointers { keyBuffers in
        try valueStorage.withUnsafeBufferPointers { valueBuffers in
            var entries: [amqp_table_entry_t] = []
            for (i, key) in keys.enumerated() {
                let k = gmall_amqp_bytes(keyBuffers[i].baseAddress, keyBuffers[i].count)
                switch arguments[key]! {
                case .string: entries.append(gmall_amqp_entry_utf8(k, gmall_amqp_bytes(valueBuffers[i].baseAddress, valueBuffers[i].count)))
                case .int(let v): entries.append(gmall_amqp_entry_i64(k, v))
                }
            }
            return try entries.withUnsafeMutableBufferPointer { buffer in
                var table = amqp_table_t()
                table.num_entries = Int32(buffer.count)
                table.entries = buffer.baseAddress
                return try body(table)
            }
        }
    }
}

extension Array where Element == [UInt8] {
    /// Pins every inner array's storage for the duration of `body`.
    func withUnsafeBufferPointers<R>(_ body: ([UnsafeBufferPointer<UInt8>]) throws -> R) rethrows -> R {
        func pin(_ index: Int, _ acc: [UnsafeBufferPointer<UInt8>]) throws -> R {
            if index == count { return try body(acc) }
            return try self[index].withUnsafeBufferPointer { try pin(index + 1, acc + [$0]) }
        }
        return try pin(0, [])
    }
}
