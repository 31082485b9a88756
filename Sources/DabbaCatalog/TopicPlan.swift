import Foundation

/// A catalog topic (declared or derived), as the plan names it (`dabba broker --topic`'s argument is another `TopicSpec`).
package typealias CatalogTopic = TopicSpec

/// A topic as it exists on the cluster: what ``TopicPlan`` compares the catalog with.
package struct ClusterTopic: Sendable, Hashable {
    /// The topic name.
    package var name: String
    /// The number of partitions.
    package var partitions: Int
    /// Replicas per partition.
    package var replicationFactor: Int
    /// Current (effective) configuration values by Kafka config name. Only the keys the catalog declares for the
    /// topic need to be present; a declared key that is missing counts as not set.
    package var configs: [String: String]

    package init(name: String, partitions: Int, replicationFactor: Int, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// What `dabba topics apply` would do to make a cluster match the catalog, computed without touching the cluster.
///
/// - Topics of the catalog (declared and derived) missing from the cluster are created with the catalog's
///   partitions, replicas and configs.
/// - Existing topics are grown to the catalog's partition count, and the config keys the catalog declares are set
///   where the cluster's effective value differs. Keys the catalog does not declare are never touched.
/// - A partition count below the cluster's is refused: Kafka cannot remove partitions.
/// - A different replication factor is only a warning: changing it needs a partition reassignment.
/// - With `prune`, topics that look derived from a declared topic (`<topic>.<group>.retry.<n>` or
///   `<topic>.<group>.dlq`) but are not in the catalog are deleted. Nothing else is ever deleted, and never an
///   internal `__` topic.
package struct TopicPlan: Sendable, Hashable {
    /// A topic to create.
    package struct Creation: Sendable, Hashable {
        package var topic: CatalogTopic
        package init(topic: CatalogTopic) { self.topic = topic }
    }

    /// One config key whose value changes.
    package struct ConfigChange: Sendable, Hashable {
        package var key: String
        /// The cluster's current value; nil when the cluster does not report the key.
        package var old: String?
        package var new: String
        package init(key: String, old: String?, new: String) {
            self.key = key
            self.old = old
            self.new = new
        }
    }

    /// A partition count going up.
    package struct PartitionGrowth: Sendable, Hashable {
        package var from: Int
        package var to: Int
        package init(from: Int, to: Int) {
            self.from = from
            self.to = to
        }
    }

    /// Changes to an existing topic: a partition growth, config changes, or both.
    package struct Update: Sendable, Hashable {
        package var name: String
        /// Set when the topic grows.
        package var partitions: PartitionGrowth?
        /// In key order.
        package var configChanges: [ConfigChange]
        package init(name: String, partitions: PartitionGrowth?, configChanges: [ConfigChange]) {
            self.name = name
            self.partitions = partitions
            self.configChanges = configChanges
        }
    }

    /// A cluster topic to delete (only with `prune`).
    package struct Deletion: Sendable, Hashable {
        package var name: String
        package var partitions: Int
        /// Why it counts as the catalog's, e.g. `dead letter of orders for group billing, no longer in the catalog`.
        package var reason: String
        package init(name: String, partitions: Int, reason: String) {
            self.name = name
            self.partitions = partitions
            self.reason = reason
        }
    }

    /// A change the catalog asks for that Dabba will not make.
    package struct Refusal: Sendable, Hashable {
        package var name: String
        /// What was asked, e.g. `partitions 6 -> 3`.
        package var change: String
        /// Why it is refused and what to do instead.
        package var explanation: String
        package init(name: String, change: String, explanation: String) {
            self.name = name
            self.change = change
            self.explanation = explanation
        }
    }

    /// A difference the plan does not act on.
    package struct Warning: Sendable, Hashable {
        package var name: String
        package var message: String
        package init(name: String, message: String) {
            self.name = name
            self.message = message
        }
    }

    package var creations: [Creation] = []
    package var updates: [Update] = []
    package var deletions: [Deletion] = []
    package var refusals: [Refusal] = []
    package var warnings: [Warning] = []

    package init() {}

    /// Whether applying the plan would change the cluster (refusals and warnings do not count).
    package var hasChanges: Bool { !creations.isEmpty || !updates.isEmpty || !deletions.isEmpty }

    /// `Plan: N to create, N to update, N to delete, N refused.`
    package var summary: String {
        "Plan: \(creations.count) to create, \(updates.count) to update, \(deletions.count) to delete, "
            + "\(refusals.count) refused."
    }

    /// Compares a catalog with a cluster.
    /// - Parameters:
    ///   - catalog: The catalog; all its topics, derived ones included, are compared.
    ///   - cluster: The cluster's topics (internal `__` topics may be included; they are ignored).
    ///   - prune: Whether to plan the deletion of derived-looking topics the catalog no longer declares.
    /// - Returns: The plan.
    package static func make(catalog: Catalog, cluster: [ClusterTopic], prune: Bool) -> TopicPlan {
        make(topics: catalog.allTopics, cluster: cluster, prune: prune)
    }

    /// Compares catalog topics with a cluster.
    /// - Parameters:
    ///   - topics: The catalog's topics, declared and derived, in catalog order.
    ///   - cluster: The cluster's topics.
    ///   - prune: Whether to plan deletions.
    /// - Returns: The plan.
    package static func make(topics: [CatalogTopic], cluster: [ClusterTopic], prune: Bool) -> TopicPlan {
        var plan = TopicPlan()
        let existing = Dictionary(cluster.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for topic in topics {
            guard let current = existing[topic.name] else {
                plan.creations.append(Creation(topic: topic))
                continue
            }
            var update = Update(name: topic.name, partitions: nil, configChanges: [])
            if topic.partitions > current.partitions {
                update.partitions = PartitionGrowth(from: current.partitions, to: topic.partitions)
            } else if topic.partitions < current.partitions {
                plan.refusals.append(
                    Refusal(
                        name: topic.name,
                        change: "partitions \(current.partitions) -> \(topic.partitions)",
                        explanation: shrinkExplanation
                    )
                )
            }
            for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                let old = current.configs[key]
                if let old, sameConfigValue(key: key, old, value) { continue }
                update.configChanges.append(ConfigChange(key: key, old: old, new: value))
            }
            if update.partitions != nil || !update.configChanges.isEmpty { plan.updates.append(update) }
            if topic.replicas != current.replicationFactor {
                plan.warnings.append(
                    Warning(
                        name: topic.name,
                        message: "replication factor \(current.replicationFactor) -> \(topic.replicas) is not "
                            + "changed by dabba topics: it needs a partition reassignment "
                            + "(kafka-reassign-partitions); the topic keeps \(current.replicationFactor)"
                    )
                )
            }
        }
        if prune {
            let declared = Set(topics.map(\.name))
            let mainTopics = topics.filter { !$0.isDerived }.map(\.name)
            for topic in cluster.sorted(by: { $0.name < $1.name })
            where !declared.contains(topic.name) && !topic.name.hasPrefix("__") {
                guard let reason = derivedOrigin(of: topic.name, mainTopics: mainTopics) else { continue }
                plan.deletions.append(
                    Deletion(
                        name: topic.name, partitions: topic.partitions, reason: reason + ", no longer in the catalog"
                    )
                )
            }
        }
        return plan
    }

    /// Why a partition count cannot go down, and what to do instead.
    package static let shrinkExplanation =
        "Kafka cannot remove partitions, and with fewer partitions keys would map to other partitions than their "
        + "earlier messages (losing per-key order). To use fewer partitions, declare a topic with a new name, move "
        + "producers and consumers to it, then delete the old one; otherwise set the catalog back to the cluster's "
        + "partition count."

    /// Whether two values of a config are the same setting: `cleanup.policy` is a set (`compact,delete` equals
    /// `delete, compact`); everything else compares as text without surrounding spaces.
    package static func sameConfigValue(key: String, _ lhs: String, _ rhs: String) -> Bool {
        let trim: (Substring) -> String = { $0.trimmingCharacters(in: .whitespaces) }
        if key == "cleanup.policy" {
            return Set(lhs.split(separator: ",").map(trim)) == Set(rhs.split(separator: ",").map(trim))
        }
        return trim(lhs[...]) == trim(rhs[...])
    }

    /// If `name` has the shape of a retry or dead-letter topic of one of `mainTopics`
    /// (`<topic>.<group>.retry.<n>` or `<topic>.<group>.dlq`), what it is; otherwise nil.
    package static func derivedOrigin(of name: String, mainTopics: [String]) -> String? {
        // The longest matching main topic wins: with `a` and `a.b` declared, `a.b.g.dlq` belongs to `a.b`.
        for main in mainTopics.sorted(by: { $0.count > $1.count }) where name.hasPrefix(main + ".") {
            let rest = name.dropFirst(main.count + 1)
            if rest.hasSuffix(".dlq"), rest.count > ".dlq".count {
                return "dead letter of \(main) for group \(rest.dropLast(".dlq".count))"
            }
            if let marker = rest.range(of: ".retry.", options: .backwards), marker.lowerBound > rest.startIndex {
                let tier = rest[marker.upperBound...]
                if !tier.isEmpty, tier.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    return "retry tier \(tier) of \(main) for group \(rest[..<marker.lowerBound])"
                }
            }
        }
        return nil
    }
}

extension TopicPlan {
    /// What a catalog topic is for, in words: `main`, `retry tier 1 (30s) of orders for group billing`,
    /// `dead letter of orders for group billing`.
    package static func describeKind(_ topic: CatalogTopic) -> String {
        switch topic.kind {
        case .main:
            return "main"
        case .retry(let tier, let delay, let group, let of):
            return "retry tier \(tier) (\(formatDelay(delay))) of \(of) for group \(group)"
        case .deadLetter(let group, let of):
            return "dead letter of \(of) for group \(group)"
        }
    }

    /// A retry delay as the catalog writes it: `250ms`, `30s`, `5m`, `1h`.
    package static func formatDelay(_ delay: Duration) -> String {
        let milliseconds = delayMilliseconds(delay)
        for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1_000)]
        where milliseconds != 0 && milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    /// A duration in whole milliseconds.
    package static func delayMilliseconds(_ delay: Duration) -> Int64 {
        let (seconds, attoseconds) = delay.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
