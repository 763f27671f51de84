print("keycard")
