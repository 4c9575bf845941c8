import Foundation
import Logging

/// One JSON object per line on standard output (where the text lines go too): `timestamp` (ISO 8601, UTC, milliseconds), `level`,
/// `logger`, `message`, and the metadata's dot-keyed fields as they are (`order.sn`,
/// `messaging.destination.name`, …), with `error.type` and `error.message` from the error a log
/// call passes (`error:`, as swift-log's text handler renders it). For log collectors
/// (`GMALL_LOG_FORMAT=json`).
package struct JSONLogHandler: LogHandler {
    let label: String
    package var logLevel: Logger.Level = .info
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?

    package init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var fields: [String: Any] = [:]
        var all = metadataProvider?.get() ?? [:]
        all.merge(metadata) { $1 }
        all.merge(event.metadata ?? [:]) { $1 }
        for (key, value) in all { fields[key] = Self.json(value) }
        if let error = event.error {
            fields["error.type"] = "\(type(of: error))"
            fields["error.message"] = "\(error)"
        }
        fields["timestamp"] = Self.timestamp()
        fields["level"] = event.level.rawValue
        fields["logger"] = label
        fields["message"] = event.message.description
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        // One write per line: lines from several threads never interleave.
        FileHandle.standardOutput.write(data + Data([0x0A]))
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let entries): entries.mapValues(json)
        }
    }

    static func timestamp() -> String {
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        return Date().formatted(format)
    }
}
