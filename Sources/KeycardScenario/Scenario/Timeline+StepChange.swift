import KeycardModel
import KeycardValues

extension Timeline {
    /// Makes `step`'s change of `cluster` (apply, delete, label, scale) through `change`, the one
    /// path both walks of the steps and the live verbs take (with cluster DNS on, `change`
    /// refuses touching its pod or Service: `ClusterChange.clusterDNS`). Returns false for a step
    /// that changes nothing (probe, scan, dns, rotate).
    @discardableResult
    static func change(
        _ step: Step, by change: inout ClusterChange, in cluster: inout Cluster, address: (ObjectKey) -> IPv4?
    ) throws(ScenarioError) -> Bool {
        switch step.action {
        case .apply(let objects): try change.apply(objects, to: &cluster, address: address)
        case .delete(let targets): try change.delete(targets, from: &cluster)
        case .label(let label): try change.label(label, in: &cluster)
        case .scale(let scale): try change.scale(scale, in: &cluster)
        case .probe, .scan, .dns, .rotate: return false
        }
        return true
    }
}
