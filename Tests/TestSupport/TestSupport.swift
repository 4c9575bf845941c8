import Foundation
import ServiceKit

/// Polls `condition` until it holds or `seconds` pass.
public func eventually(seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    return try await condition()
}

/// Runs `deploy/local/servers <argument>` (e.g. `restart-rabbitmq`) and waits for it.
/// (posix_spawn + waitpid: Foundation's `Process.waitUntilExit` can hang when the script
/// leaves a detached daemon behind.)
public func localServers(_ argument: String) throws {
    // Close every inherited descriptor above stderr first: a daemon started from here (RabbitMQ)
    // must not keep the test process's listening sockets open.
    let closeAndRun = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null; exec /bin/bash "$0" "$1""#
    let args = ["/bin/bash", "-c", closeAndRun, ServiceConfig.repositoryRoot + "/deploy/local/servers", argument]
    var cArgs = args.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, "/bin/bash", nil, nil, &cArgs, environ) == 0 else { throw ServersFailure("cannot spawn \(args)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    guard status == 0 else { throw ServersFailure("servers \(argument) exited with status \(status)") }
}

public struct ServersFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// A file under `Tests/Fixtures/` (the Alipay key pairs and signed vectors), kept once for every
/// test target rather than copied into each bundle.
public func fixtureText(_ path: String) throws -> String {
    try String(contentsOfFile: ServiceConfig.repositoryRoot + "/Tests/Fixtures/" + path, encoding: .utf8)
}
