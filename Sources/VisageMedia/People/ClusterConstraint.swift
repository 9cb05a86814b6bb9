/// Kinds of facts users state about people (`media_cluster_constraints.kind`).
public enum ClusterConstraint {
    /// The face (`subject`) never joins the person (`other`).
    public static let notPerson = "not-person"
    /// The two faces (`subject` < `other`) never share a person.
    public static let apartFaces = PeopleEdit.Kind.apartFaces.rawValue
    /// The two people (`subject` < `other`) are never merged by a run (a user's merge lifts it).
    public static let differentPeople = PeopleEdit.Kind.differentPeople.rawValue
    /// A run split the person (`subject`) off `other` to keep apart two faces said to be
    /// different; undoing that statement joins them again. Not a rule: runs ignore it.
    public static let splitOff = "split-off"
}
