import Foundation
import KeycardKernel
import KeycardTopology
import KeycardValues

/// Cluster DNS as a real server: dnsmasq (Debian's `dnsmasq-base`) running as the `command` of
/// the lab's DNS pod, inside that pod's network namespace. Its configuration and hosts file live in
/// the lab's state folder (/run/keycard/<lab>/dns/); it reads no host file (`/etc/hosts`,
/// `/etc/resolv.conf`, `/etc/dnsmasq.conf` are all switched off), forwards nothing (no upstream
/// server: every name it does not hold, inside the cluster domain or not, is NXDOMAIN) and listens
/// on UDP and TCP 53 of the pod's address only (a UDP answer over 512 bytes, or over the EDNS size
/// the query offers, is sent truncated with TC set, as CoreDNS sends it). Each step rewrites the hosts
/// file and sends SIGHUP, on which dnsmasq clears its cache and re-reads it (dnsmasq(8), SIGNALS).
/// ExternalName Services are `cname=` lines of the configuration, which SIGHUP does not re-read
/// (dnsmasq(8), NOTES): when they change, keycard restarts the server with the new configuration
/// and records the new process in the lab's state.
public enum ClusterDNSServer {
    /// /run/keycard/<lab>/dns.
    public static func directory(_ lab: String) -> String { "\(LabPaths.directory(lab))/dns" }
    public static func configFile(_ lab: String) -> String { "\(directory(lab))/dnsmasq.conf" }
    public static func hostsFile(_ lab: String) -> String { "\(directory(lab))/hosts" }
    public static func pidFile(_ lab: String) -> String { "\(directory(lab))/dnsmasq.pid" }
    /// Held (flock) by the one process refreshing the server at a time.
    public static func lockFile(_ lab: String) -> String { "\(directory(lab))/refresh.lock" }
    /// The resolv.conf a `command:` program of pod `namespace/name` sees as /etc/resolv.conf.
    public static func resolvConfFile(_ lab: String, namespace: String, pod: String) -> String {
        "\(directory(lab))/" + LabFileName.fitted("resolv.\(namespace).\(pod)") + ".conf"
    }

    /// Debian installs it in /usr/sbin, which a user's PATH may lack.
    static var program: String {
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : "dnsmasq"
    }

    /// The DNS pod's argv: dnsmasq in the foreground (so keycard owns its pid) with our file only.
    public static func argv(lab: String) -> [String] {
        [program, "--keep-in-foreground", "--conf-file=\(configFile(lab))"]
    }

    /// dnsmasq.conf for a server on `listen`, answering `domain` from the hosts file only, plus one
    /// `cname=ALIAS,TARGET` line per entry of `cnames` (sorted by alias). dnsmasq answers such an
    /// alias with its CNAME, then the target's records when it holds them (hosts file, another
    /// `cname=` or a synthesized pod name), else the CNAME alone with NOERROR; it refuses to start
    /// on a CNAME loop and follows at most 11 CNAMEs, so `cnames` must be what `DNSRecords.cnames`
    /// keeps (no loop, at most 8).
    ///
    /// Each of `podNamespaces` gets a `synth-domain=<ns>.pod.<domain>,0.0.0.0,255.255.255.255`
    /// line: dnsmasq answers `a-b-c-d.<ns>.pod.<domain>` with a.b.c.d for any address (dnsmasq(8),
    /// `--synth-domain`; the range is written as two addresses, dnsmasq 2.90 reads `0.0.0.0/0` as
    /// no range), as kubeadm's CoreDNS answers pod names with `pods insecure`
    /// (`DNSRecords.podAddress`). It also answers PTR queries of every address without a record
    /// with such a name (CoreDNS asks its upstream for those).
    public static func config(
        lab: String, listen: IPv4, domain: String, cnames: [String: String] = [:], podNamespaces: [String] = []
    ) -> String {
        let aliases = cnames.keys.sorted().map { "cname=\($0),\(cnames[$0, default: ""])\n" }.joined()
        let pods = Set(podNamespaces).sorted().map { "synth-domain=\($0).pod.\(domain),0.0.0.0,255.255.255.255\n" }.joined()
        return """
            # keycard cluster DNS for lab \(lab): names under \(domain) from the hosts file; nothing is forwarded,
            # every other name is NXDOMAIN (local=/#/: the lab has no upstream).
            port=53
            listen-address=\(listen)
            bind-interfaces
            no-resolv
            no-hosts
            no-poll
            addn-hosts=\(hostsFile(lab))
            local=/#/
            domain-needed
            user=root
            pid-file=\(pidFile(lab))
            log-facility=-
            log-queries

            """ + pods + aliases
    }

    /// Hosts-file text for `records` (name → addresses): one `address name` line per record,
    /// sorted, so the same records always give the same bytes.
    public static func hostsText(_ records: [String: [IPv4]]) -> String {
        var lines: [String] = []
        for name in records.keys.sorted() {
            for address in records[name, default: []].sorted() { lines.append("\(address) \(name)") }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// Whether `pod`'s program reads a resolv.conf of the lab's (`resolvConfFile`, mounted on its
    /// /etc/resolv.conf by `Lab.startCommands`): with cluster DNS, every pod with a `command:` but
    /// the DNS pod, on the host network too: the kubelet writes a resolv.conf for every pod
    /// (`GetPodDNS`, pkg/kubelet/network/dns/dns.go: `getPodDNSType` gives a host-network pod with
    /// ClusterFirst the node's file, with ClusterFirstWithHostNet cluster DNS's), so the one
    /// `prepare` writes is the one each program mounts.
    static func readsResolvConf(_ pod: PlannedPod, in plan: LabPlan) -> Bool {
        guard let dns = plan.dns, pod.key != dns.serverPod else { return false }
        return !(pod.command ?? []).isEmpty
    }

    /// Writes the configuration, an empty hosts file and the resolv.conf of every pod that reads
    /// one (`readsResolvConf`) before any program starts. No-op without `plan.dns`.
    static func prepare(_ plan: LabPlan) throws(LabError) {
        guard let dns = plan.dns else { return }
        guard let server = plan.pods.first(where: { $0.key == dns.serverPod }) else {
            throw .state(lab: plan.labName, path: directory(plan.labName), reason: "the DNS pod \(dns.serverPod) is not in the plan")
        }
        let lab = plan.labName
        try write(directory: directory(lab), lab: lab)
        // The namespaces every cluster has and those of the plan's pods: the first refresh then
        // restarts the server only for a namespace without pods.
        let namespaces = ["default", "kube-system", "kube-public", "kube-node-lease"] + plan.pods.map(\.namespace)
        try write(config(lab: lab, listen: server.address, domain: dns.domain, podNamespaces: namespaces), to: configFile(lab), lab: lab)
        try write("", to: hostsFile(lab), lab: lab)
        // The lab's nodes are this machine: its file is the node's (`PodResolver.node`).
        let nodeFile = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        for pod in plan.servingPods where readsResolvConf(pod, in: plan) {
            let text = dns.resolvConf(namespace: pod.namespace, resolver: pod.resolver, nodeFile: nodeFile)
            try write(text, to: resolvConfFile(lab, namespace: pod.namespace, pod: pod.name), lab: lab)
        }
    }

    /// The name under which each hosts file carries its generation (127.0.0.1): outside every
    /// cluster name, so no pod's answer changes.
    static let generationDomain = "refresh.keycard.invalid"

    /// How long a refresh waits for the server to serve the new records.
    static let patience: Duration = .seconds(10)

    /// Rewrites the hosts file with `records` and makes the server re-read it (SIGHUP), unless the
    /// files already hold exactly these records and `cnames`; when `cnames` differ from those the
    /// server was started with, writes the new configuration and restarts it (see `restart`).
    /// Then waits until the server answers the new file's generation name, asked from its own
    /// namespace (dnsmasq ignores SIGHUP until its start-up is over, so a signal sent too early is
    /// sent again; a restarted server is not signalled). Returns true when it reloaded.
    @discardableResult
    public static func refresh(
        _ lab: LabInstance, records: [String: [IPv4]], cnames: [String: String] = [:], podNamespaces: [String] = []
    ) throws(LabError) -> Bool {
        try refresh(plan: lab.plan, processes: lab.processes, records: records, cnames: cnames, podNamespaces: podNamespaces)
    }

    /// `refresh` for a lab known by its plan and the processes it started (a live lab's state). The
    /// DNS server's process is the one the lab's state file records when there is one (a restart
    /// records the new process there), else the one in `processes`. One process refreshes at a
    /// time (an exclusive flock on `lockFile`): `keycard up` and the lab process it starts both
    /// refresh at start-up, and two restarts at once would leave one server on the port and the
    /// other refresher waiting on one that could not bind it.
    @discardableResult
    public static func refresh(
        plan: LabPlan, processes: [LabProcess], records: [String: [IPv4]], cnames: [String: String] = [:], podNamespaces: [String] = []
    ) throws(LabError) -> Bool {
        guard plan.dns != nil else { return false }
        let lab = plan.labName
        let fd = open(lockFile(lab), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw .state(lab: lab, path: lockFile(lab), reason: "cannot open: errno \(errno)") }
        defer { close(fd) }
        var rc: Int32
        repeat { rc = flock(fd, LOCK_EX) } while rc != 0 && errno == EINTR
        guard rc == 0 else { throw .state(lab: lab, path: lockFile(lab), reason: "cannot lock: errno \(errno)") }
        return try refreshLocked(plan: plan, processes: processes, records: records, cnames: cnames, podNamespaces: podNamespaces)
    }

    /// `refresh`, the lock held.
    private static func refreshLocked(
        plan: LabPlan, processes: [LabProcess], records: [String: [IPv4]], cnames: [String: String], podNamespaces: [String]
    ) throws(LabError) -> Bool {
        guard let dns = plan.dns else { return false }
        let lab = plan.labName
        let path = hostsFile(lab)
        guard let server = plan.pods.first(where: { $0.key == dns.serverPod }) else {
            throw .state(lab: lab, path: path, reason: "the DNS pod \(dns.serverPod) is not in the plan")
        }
        let body = hostsText(records)
        let configuration = config(lab: lab, listen: server.address, domain: dns.domain, cnames: cnames, podNamespaces: podNamespaces)
        let configChanged = (try? String(contentsOfFile: configFile(lab), encoding: .utf8)) != configuration
        // The first line is the generation; the rest are the records.
        if !configChanged, let current = try? String(contentsOfFile: path, encoding: .utf8), let newline = current.firstIndex(of: "\n"),
            current[current.index(after: newline)...] == body[...]
        {
            return false
        }
        let generation = "g\(DispatchTime.now().uptimeNanoseconds).\(generationDomain)"
        try write("127.0.0.1 \(generation)\n" + body, to: path, lab: lab)
        let recorded = try LabState.read(lab)?.processes ?? processes
        guard var process = recorded.first(where: { $0.pod == dns.serverPod }),
            process.startTime == nil || ProcessTable.startTime(of: process.pid) == process.startTime
        else {
            throw .state(lab: lab, path: path, reason: "the DNS server of \(dns.serverPod) is not running")
        }
        if configChanged {
            try write(configuration, to: configFile(lab), lab: lab)
            process = try restart(process, plan: plan, server: server)
        }
        let clock = ContinuousClock()
        let deadline = clock.now + patience
        while true {
            // From the server's own namespace to its own address: no policy is involved.
            let query = DNSQuery(
                namespace: server.netns, name: generation + ".", server: server.address, search: [], timeoutSeconds: 1, attempts: 1)
            let outcome = try? query.run()
            if case .answered = outcome { return true }
            // A server that answers without the generation has old records: SIGHUP makes it read
            // the hosts file again. Only one that answers is signalled: a server still starting
            // (at bring-up it was started a moment ago) may not have set its handler yet, and the
            // signal's default action would end it. A restarted server reads both files as it starts.
            let answers: Bool
            switch outcome {
            case .notFound?, .noAddress?, .failed?: answers = true
            case .answered?, .noAnswer?, nil: answers = false
            }
            if answers && !configChanged && kill(process.pid, SIGHUP) != 0 {
                throw .state(lab: lab, path: path, reason: "cannot signal the DNS server (pid \(process.pid)): errno \(errno)")
            }
            if ProcessTable.hasExited(process.pid) {
                let tail =
                    (try? String(contentsOfFile: process.logPath, encoding: .utf8))?.split(separator: "\n").suffix(3).joined(
                        separator: "\n")
                    ?? ""
                throw .state(lab: lab, path: configFile(lab), reason: "the DNS server exited:\n\(tail)")
            }
            if clock.now > deadline {
                throw .state(lab: lab, path: path, reason: "the DNS server did not load its records within \(patience)")
            }
            Sleep.milliseconds(20)
        }
    }

    /// Stops the DNS server `process` (SIGTERM, then SIGKILL; its port is free once it has exited)
    /// and starts it again in the DNS pod's namespace with the same argv (which re-reads the
    /// configuration), appending to the same log; records the new process in the lab's state file
    /// (tear-down also finds it through the pod's namespace). Returns the new process.
    static func restart(_ process: LabProcess, plan: LabPlan, server: PlannedPod) throws(LabError) -> LabProcess {
        let lab = plan.labName
        ProcessTable.stop([process.pid])
        let argv = argv(lab: lab)
        let log = LabPaths.log(lab, namespace: server.namespace, pod: server.name)
        let pid: pid_t
        do {
            pid = try NamespacedProcess.spawn(argv, inNamespace: server.netns, logPath: log)
        } catch {
            throw .kernel(lab: lab, stage: "restart the DNS server of \(server.key)", error)
        }
        let started = LabProcess(
            pod: server.key, netns: server.netns, pid: pid, startTime: ProcessTable.startTime(of: pid), argv: argv, logPath: log)
        if var state = try LabState.read(lab) {
            state.processes.removeAll { $0.pod == server.key }
            state.processes.append(started)
            try state.write()
        }
        return started
    }

    private static func write(directory: String, lab: String) throws(LabError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .state(lab: lab, path: directory, reason: "cannot create: \(error)")
        }
    }

    /// Temporary file + rename: the server never reads half a file.
    private static func write(_ text: String, to path: String, lab: String) throws(LabError) {
        try LabPaths.write(text, to: path, lab: lab)
    }
}
