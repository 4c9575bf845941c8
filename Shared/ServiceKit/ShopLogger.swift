import Logging

/// Builds a logger at the configured level: swift-log's text lines by default, one JSON object
/// per line with `format` "json" (`GMALL_LOG_FORMAT`, for a log collector).
public func makeLogger(label: String, level: String, format: String = "text") -> Logger {
    var logger = format == "json" ? Logger(label: label, factory: { JSONLogHandler(label: $0) }) : Logger(label: label)
    logger.logLevel = Logger.Level(rawValue: level) ?? .info
    return logger
}
