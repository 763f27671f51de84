import KeycardModel
import Testing

/// Every namespaced kind gets its key from one place, so code can index any of them alike.
@Suite struct NamespacedObjectTests {
    /// `namespace/name` of each object, through the protocol only.
    static func keys(_ objects: [any NamespacedObject]) -> [String] { objects.map(\.key.description) }

    @Test func everyKindIsKeyedByNamespaceAndName() {
        let objects: [any NamespacedObject] = [
            Pod(namespace: "shop", name: "web"),
            Service(namespace: "shop", name: "api"),
            NetworkPolicy(namespace: "data", name: "deny-all"),
            PeerAuthentication(namespace: "istio-system", name: "default"),
            AuthorizationPolicy(namespace: "data", name: "allow-api"),
        ]
        #expect(Self.keys(objects) == ["shop/web", "shop/api", "data/deny-all", "istio-system/default", "data/allow-api"])
        #expect(Pod(namespace: "shop", name: "web").key == ObjectKey("shop", "web"))
    }
}
