import DabbaKafka
import DabbaTesting
import Foundation
import Logging

/// One in-process embedded broker shared by the CLI tests; each test uses its own topics.
let sharedBroker: EmbeddedBroker = {
    do {
        return try EmbeddedBroker(logger: quietLogger)
    } catch {
        fatalError("could not start the embedded broker: \(error)")
    }
}()

let quietLogger = TestHelpers.quietLogger("dabba.cli-test")

/// Creates a topic with a unique name on the shared broker.
func makeTopic(_ base: String = #function, partitions: Int32) async throws -> String {
    let name = "cli-" + TestHelpers.uniqueName(base)
    try await sharedBroker.createTopic(name, partitions: partitions)
    return name
}

/// `-b <shared broker>`.
var bootstrapArguments: [String] { ["-b", sharedBroker.bootstrapServers] }

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String? { self[key] as? String }
    func int(_ key: String) -> Int? { (self[key] as? NSNumber)?.intValue ?? self[key] as? Int }
    func isNull(_ key: String) -> Bool { self[key] is NSNull }
}
