import DabbaCatalog
import Foundation

extension TopicPlan {
    /// The plan as people read it, Terraform-style: `+ create`, `~ update`, `- delete`, `! refused` (each with
    /// indented details), then ``summary``. Warnings are not included (they go to standard error).
    var lines: [String] {
        var lines: [String] = []
        for creation in creations {
            let topic = creation.topic
            var header =
                "+ create \(topic.name): \(Self.describeSize(partitions: topic.partitions, replicas: topic.replicas))"
            if topic.isDerived { header += " (\(Self.describeKind(topic)))" }
            lines.append(header)
            for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                lines.append("    \(key) = \(value)")
            }
        }
        for update in updates {
            lines.append("~ update \(update.name)")
            if let growth = update.partitions {
                lines.append(
                    "    partitions: \(growth.from) -> \(growth.to) (keys produced from now on may map to other "
                        + "partitions)"
                )
            }
            for change in update.configChanges {
                lines.append("    \(change.key): \(Self.describeValue(change.old)) -> \(change.new)")
            }
        }
        for deletion in deletions {
            lines.append(
                "- delete \(deletion.name): \(Self.describePartitions(deletion.partitions)) (\(deletion.reason))"
            )
        }
        for refusal in refusals {
            lines.append("! refused \(refusal.name): \(refusal.change)")
        }
        // Each distinct explanation once, after the refusals it explains.
        var explained: Set<String> = []
        for refusal in refusals where explained.insert(refusal.explanation).inserted {
            lines.append("    \(refusal.explanation)")
        }
        lines.append(summary)
        return lines
    }

    /// `warning: <topic>: <message>` lines.
    var warningLines: [String] {
        warnings.map { "warning: \($0.name): \($0.message)" }
    }

    /// `6 partitions, 1 replica`.
    static func describeSize(partitions: Int, replicas: Int) -> String {
        "\(describePartitions(partitions)), \(replicas) replica\(replicas == 1 ? "" : "s")"
    }

    /// `1 partition`, `6 partitions`.
    static func describePartitions(_ count: Int) -> String {
        "\(count) partition\(count == 1 ? "" : "s")"
    }

    /// A config value, or `(not set)`.
    static func describeValue(_ value: String?) -> String {
        value ?? "(not set)"
    }
}
