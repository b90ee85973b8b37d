/// Command handling: load a stream's state, decide, append (see CommandHandler.swift).
public enum CommandHandlingModule {}
