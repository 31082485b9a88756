import DabbaKafka
import DabbaTesting
import Foundation
import Synchronization
import Testing

/// The persistent broker, as these tests name it.
typealias PersistentBroker = PersistentTestBroker

extension PersistentTestBroker {
    /// Why tests using the persistent broker are skipped, as a Swift Testing comment.
    static var skipReason: Comment { Comment(rawValue: unavailableMessage) }
}

func receive(
    _ consumer: KafkaConsumer,
    count: Int,
    quietPeriod: Duration = .seconds(3),
    timeout: Duration = .seconds(30)
) async throws -> [TestRecord] {
    final class Arrivals: Sendable {
        let state = Mutex<(messages: [TestRecord], last: ContinuousClock.Instant)>(([], .now))
    }
    let arrivals = Arrivals()
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            for try await message in consumer.messages {
                let total = arrivals.state.withLock { state in
                    state.messages.append(TestRecord(message))
                    state.last = .now
                    return state.messages.count
                }
                if total >= count { return }
            }
        }
        group.addTask {
            let deadline = ContinuousClock.now.advanced(by: timeout)
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                let quiet = arrivals.state.withLock { state in
                    !state.messages.isEmpty && ContinuousClock.now - state.last >= quietPeriod
                }
                if quiet { return }
            }
        }
        try await group.next()
        group.cancelAll()
    }
    return arrivals.state.withLock { $0.messages }
}
