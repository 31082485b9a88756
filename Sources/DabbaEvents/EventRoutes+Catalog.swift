import DabbaCatalog

extension EventRoutes {
    /// Routes every event type declared in a catalog to its channel's topic.
    /// - Parameter catalog: The loaded `Topics/` catalog.
    public init(catalog: Catalog) {
        var topics: [String: String] = [:]
        for event in catalog.events { topics[event.type] = event.topic }
        self.init(topics)
    }
}
