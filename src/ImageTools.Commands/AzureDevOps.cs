using System;
using System.Text;

namespace ImageTools.Commands
{
    /// <summary>
    /// Azure DevOps logging commands, so per-image errors and warnings show up in the pipeline's
    /// summary. Values are escaped as the agent expects (%, CR, LF, and in properties ; and ]).
    /// </summary>
    internal static class AzureDevOps
    {
        /// <summary>True inside an Azure Pipelines job (the agent sets TF_BUILD).</summary>
        public static bool IsPipeline(Func<string, string?>? environment = null) =>
            string.Equals((environment ?? Environment.GetEnvironmentVariable)("TF_BUILD"), "true", StringComparison.OrdinalIgnoreCase);

        /// <summary>##vso[task.logissue type=error|warning;sourcepath=…;linenumber=…;code=…]message</summary>
        public static string LogIssue(bool error, string message, string? sourcePath = null, int? line = null, string? code = null)
        {
            var command = new StringBuilder("##vso[task.logissue type=").Append(error ? "error" : "warning");
            if (sourcePath != null) command.Append(";sourcepath=").Append(EscapeProperty(sourcePath));
            if (line.HasValue) command.Append(";linenumber=").Append(line.Value);
            if (code != null) command.Append(";code=").Append(EscapeProperty(code));
            return command.Append(']').Append(EscapeMessage(message)).ToString();
        }

        /// <summary>##vso[task.setvariable variable=…;isOutput=true]value: an output variable later jobs and stages read.</summary>
        public static string SetOutputVariable(string name, string value) =>
            "##vso[task.setvariable variable=" + EscapeProperty(name) + ";isOutput=true]" + EscapeMessage(value);

        private static string EscapeMessage(string text) =>
            text.Replace("%", "%AZP25").Replace("\r", "%0D").Replace("\n", "%0A");

        private static string EscapeProperty(string text) =>
            EscapeMessage(text).Replace(";", "%3B").Replace("]", "%5D");
    }
}
