/// The mark of a table position with no cell: a probe over several destinations names a port one
/// of them does not have (a Service without that port), so there is nothing to probe there.
enum NoCell {
    static let mark: Character = "-"
    static let legend = "  (-: no such cell: the destination does not have that port, e.g. a Service without it)"
}
