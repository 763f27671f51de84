import KeycardCompiler
import KeycardLab
import KeycardModel
import KeycardScenario
import KeycardTopology

/// The bring-up order `keycard run` and `keycard up` share: the lab's namespaces and links, the
/// cluster DNS server's program, then the Service proxy for the first cluster (the `kube-dns`
/// ClusterIP pods query among its Services) and cluster DNS's records of it, and only then every
/// other program (`Lab.up`'s `beforePrograms`). In a cluster CoreDNS is up, and the Services of
/// these scenarios exist, before the application pods that look them up start: a program that
/// resolves a Service name as its first instruction gets its answer, as there.
public enum LabStartup {
    /// Brings `spec`'s lab up in that order for `cluster` (the scenario's first state). Returns the
    /// lab and its Service proxy, programmed for `cluster`.
    public static func up(spec: LabSpec, cluster: Cluster, enforcement: Enforcement) throws -> (lab: LabInstance, services: LabServices) {
        var services: LabServices?
        let lab = try Lab.up(spec: spec) { lab in
            let proxy = LabServices(plan: lab.plan, enforcement: enforcement)
            services = proxy
            try proxy.program(cluster)
            try refreshDNS(lab, cluster)
        }
        return (lab, services ?? LabServices(plan: lab.plan, enforcement: enforcement))
    }

    /// Gives the cluster DNS server the records of `cluster` (no-op without DNS), waiting until it
    /// serves them (`ClusterDNSServer.refresh`).
    public static func refreshDNS(_ lab: LabInstance, _ cluster: Cluster) throws {
        guard lab.plan.dns != nil else { return }
        let records = DNSRecords(cluster)
        try ClusterDNSServer.refresh(lab, records: records.addresses, cnames: records.cnames, podNamespaces: records.podNamespaces.sorted())
    }
}
