import Foundation

/// Test-only crash points of the relay, for Dabba's own process tests: with the environment variable
/// `DABBA_TEST_OUTBOX_CRASH` set to a point's name, the process SIGKILLs itself there, in the first relay round that
/// has at least two records. Never set it outside tests.
enum OutboxCrashPoint: String {
    /// Rows read from the outbox, nothing handed to the producer yet.
    case beforePublish = "before-publish"
    /// Every row handed to the producer, about half of them acknowledged.
    case midPublish = "mid-publish"
    /// Every row acknowledged, none deleted from the outbox.
    case afterPublish = "after-publish"

    private static let configured = ProcessInfo.processInfo.environment["DABBA_TEST_OUTBOX_CRASH"].flatMap(Self.init)

    /// SIGKILLs the process if this is the configured crash point and the round has at least two records.
    func crashIfConfigured(records: Int) {
        guard Self.configured == self, records >= 2 else { return }
        FileHandle.standardError.write(Data("outbox test crash point \(rawValue) reached: SIGKILL\n".utf8))
        kill(getpid(), SIGKILL)
    }
}
