import DabbaCatalog

extension EventRoutes {
    /// Routes every event type declared in a catalog to its channel's topic, in the content mode the catalog
    /// declares for it (`x-dabba-content-mode`).
    /// - Parameter catalog: The loaded `Topics/` catalog.
    public init(catalog: Catalog) {
        var topics: [String: String] = [:]
        var modes: [String: EventContentMode] = [:]
        for event in catalog.events {
            topics[event.type] = event.topic
            if event.contentMode != .binary { modes[event.type] = event.contentMode }
        }
        self.init(topics, contentModes: modes)
    }
}
