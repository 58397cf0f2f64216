"""Papers printed from a case: the deadline notice (限期拆除通知书), recorded in the case's
history with the hash of the text the owner received, and the work order sheet."""
