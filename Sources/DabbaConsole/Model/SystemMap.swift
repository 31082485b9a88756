import DabbaCatalog

/// The system map the catalog describes: per catalog document (one example system each), which services send to
/// which topics and which consumer groups read them.
struct SystemMap: Sendable {
    /// One catalog document's part of the map.
    struct System: Sendable {
        var title: String
        var path: String
        var topics: [TopicSpec]
        var producers: [ProducerSpec]
        var groups: [ConsumerGroupSpec]
        /// Every service named by its producers and groups, sorted.
        var services: [String] {
            Set(producers.compactMap(\.service) + groups.compactMap(\.service)).sorted()
        }
    }

    var systems: [System]

    init(catalog: Catalog) {
        systems = catalog.documents.map { document in
            System(
                title: document.title, path: document.path,
                topics: catalog.allTopics.filter { $0.source.file == document.path },
                producers: catalog.producers.filter { $0.source.file == document.path },
                groups: catalog.consumerGroups.filter { $0.source.file == document.path })
        }.sorted { $0.title < $1.title }
    }

    /// Every service of every system.
    var services: [String] { Set(systems.flatMap(\.services)).sorted() }
}
