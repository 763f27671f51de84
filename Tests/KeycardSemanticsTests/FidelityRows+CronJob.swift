import KeycardModel

// The CronJob rows of docs/kubernetes-fidelity.md: `spec.schedule` (robfig/cron v3 ParseStandard)
// and `spec.timeZone` (the host's time zone database), as pkg/apis/batch/validation checks them.

/// A CronJob shop/nightly with `fields` (flow-mapping entries) beside its job template.
private func cronJob(_ fields: String) -> String {
    "- {apiVersion: batch/v1, kind: CronJob, metadata: {name: nightly, namespace: shop}, spec: {\(fields), "
        + "jobTemplate: {spec: {template: {metadata: {labels: {app: nightly}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}}}"
}

/// The CronJob loaded and ran the one pod of its Job.
private let nightlyRuns: @Sendable (Cluster) -> String? = { cluster in
    let key = WorkloadKey(.cronJob, "shop", "nightly")
    let pods = cluster.pods.values.filter { $0.owner?.workload == key }
    return cluster.workloads[key] != nil && pods.count == 1 ? nil : "expected CronJob shop/nightly with one pod, found \(pods.count)"
}

/// Nothing isolates the fidelity cluster's pods.
private let unchanged: [FidelityCell] = ["other/client -> shop/web TCP/80 allow", "shop/client -> other/web TCP/80 allow"]

let cronJobRows: [FidelityRow] = [
    FidelityRow(
        "CJ-01", cronJob("schedule: '*/15 9-17 ? JAN-dec mon-FRI', timeZone: Europe/Paris"), .accepts(unchanged), state: nightlyRuns),
    FidelityRow("CJ-02", cronJob("schedule: '@every 1h30m'"), .accepts(unchanged), state: nightlyRuns),
    FidelityRow(
        "CJ-03", cronJob("schedule: '0 9 * * 7'"), .refuses(at: "'0 9 * * 7'", "end of range (7) above maximum (6): 7")),
    FidelityRow(
        "CJ-04", cronJob("schedule: '0 0 * * * *'"), .refuses(at: "'0 0 * * * *'", "expected exactly 5 fields, found 6")),
    FidelityRow(
        "CJ-05", cronJob("schedule: 'CRON_TZ=UTC 0 3 * * *'"),
        .refuses(at: "'CRON_TZ", "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")),
    FidelityRow(
        "CJ-06", cronJob("schedule: '0 3 * * *', timeZone: Europe/Pariss"),
        .refuses(at: "Europe/Pariss", "spec.timeZone \"Europe/Pariss\": unknown time zone Europe/Pariss")),
    FidelityRow(
        "CJ-07", cronJob("schedule: '0 3 * * *', timeZone: Local"),
        .refuses(at: "Local", "must be an explicit time zone as defined in https://www.iana.org/time-zones")),
    FidelityRow(
        "CJ-08", cronJob("schedule: '@every 1d'"), .refuses(at: "'@every", "failed to parse duration @every 1d: time: unknown unit")),
]
