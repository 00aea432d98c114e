"""What a learner reads, as pure functions: day texts and questions as message bodies (`texts`),
the parts of a learner's day (`parts`), and SMS segments and encodings (`segments`).

Shared by the course preview, the planner, replies and the outbox; it imports none of them.
"""
