/// A Redis reply, decoded from hiredis's `redisReply`.
public enum RESPValue: Sendable, Equatable {
    case null
    case string(String)
    case integer(Int64)
    case array([RESPValue])
    case status(String)

    /// The value as an integer (integers, or numeric strings).
    public var int: Int64? {
        switch self {
        case .integer(let v): v
        case .string(let s): Int64(s)
        default: nil
        }
    }

    /// The value as a string (bulk strings and status replies).
    public var string: String? {
        switch self {
        case .string(let s), .status(let s): s
        case .integer(let v): String(v)
        default: nil
        }
    }

    public var array: [RESPValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}
