@{
    # ModuleVersion is stamped by build.ps1 from Directory.Build.props (the one place it lives).
    RootModule           = 'ImageTools.Commands.dll'
    ModuleVersion        = '0.0.0'
    GUID                 = '5f0c7a39-2d4b-4e8e-9c61-3b7f4a1d2e90'
    Author               = 'ImageTools contributors'
    CompanyName          = 'ImageTools'
    Copyright            = '(c) ImageTools contributors. All rights reserved.'
    Description          = 'Turns a tree of container image definitions into built, verified and published images, rebuilding only what is stale, in dependency order.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('ImageTools.Format.ps1xml')
    CmdletsToExport      = @('Get-ImageGraph', 'Test-ImageNeedsRebuild', 'Invoke-ImageBuild', 'Publish-Image', 'Update-ImageChangelog', 'New-ImageBuildPlan', 'Get-ImageArchive', 'Remove-ImageBuild', 'Copy-Image')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Docker', 'Container', 'Image', 'Build', 'Registry', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux')
            ProjectUri   = 'https://example.invalid/imagetools'
            ReleaseNotes = '0.1.0: Get-ImageGraph, Test-ImageNeedsRebuild, Invoke-ImageBuild, Publish-Image (registry or archive) and Update-ImageChangelog (docker-pkg compatible).'
        }
    }
}
