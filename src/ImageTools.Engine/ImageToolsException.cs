using System;

namespace ImageTools
{
    /// <summary>What kind of fault an engine error is; the cmdlet layer maps it to an ErrorCategory.</summary>
    public enum FaultKind
    {
        /// <summary>A file or value the user wrote is malformed.</summary>
        InvalidData,
        /// <summary>An argument or combination of arguments cannot be used.</summary>
        InvalidArgument,
        /// <summary>A file, directory or image that should exist does not.</summary>
        ObjectNotFound,
        /// <summary>Two things claim what only one may have (e.g. an image name).</summary>
        ResourceExists,
        /// <summary>An engine, registry or disk cannot be reached or used.</summary>
        ResourceUnavailable,
        /// <summary>Credentials were refused.</summary>
        AuthenticationError,
        /// <summary>The operation would break a rule (immutable tag, cycle).</summary>
        InvalidOperation,
    }

    /// <summary>
    /// An error the user can act on: it names the file and line (or the image) and says what to do.
    /// <see cref="ErrorId"/> is stable, so scripts and tests can match on it.
    /// </summary>
    public class ImageToolsException : Exception
    {
        public ImageToolsException(string errorId, FaultKind kind, string message,
            string? filePath = null, int? line = null, string? imageName = null, Exception? inner = null)
            : base(Compose(message, filePath, line), inner)
        {
            ErrorId = errorId;
            Kind = kind;
            FilePath = filePath;
            Line = line;
            ImageName = imageName;
            Reason = message;
        }

        /// <summary>Stable identifier, e.g. <c>InvalidImageName</c>.</summary>
        public string ErrorId { get; }
        public FaultKind Kind { get; }
        public string? FilePath { get; }
        /// <summary>1-based line in <see cref="FilePath"/>, when known.</summary>
        public int? Line { get; }
        public string? ImageName { get; }
        /// <summary>The message without the file:line prefix.</summary>
        public string Reason { get; }

        /// <summary>The error target: the image when known, else the file.</summary>
        public string? Target => ImageName ?? FilePath;

        private static string Compose(string message, string? filePath, int? line)
        {
            if (filePath == null) return message;
            return line.HasValue ? $"{filePath}:{line}: {message}" : $"{filePath}: {message}";
        }
    }
}
