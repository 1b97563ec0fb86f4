; Inno Setup 6 script for the Windows installer. Built on Windows by packaging/build.py,
; or by hand after `python packaging/build.py`:
;   iscc /DVersion=0.1.0 /DDist=<repo>\dist /O<repo>\dist packaging\workshop.iss
; Add /DTrust=<folder> to lay down the OEM and dealer root certificates (firmware\,
; baseline\, workstation\, CRLs) in %ProgramData%\workshop\trust, which only administrators
; may change. Per-user data (audit log, keys, package store, settings) stays in each
; user's %LOCALAPPDATA%\workshop, untouched by install, upgrade and uninstall.
#ifndef Version
  #define Version "0.0.0"
#endif
#ifndef Dist
  #define Dist "..\dist"
#endif

[Setup]
AppId={{6B1C6E1E-2F0B-4C1B-9A55-0D7C1E5F3A21}
AppName=workshop
AppVersion={#Version}
AppPublisher=workshop contributors
DefaultDirName={autopf}\workshop
DefaultGroupName=workshop
PrivilegesRequired=admin
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=workshop-{#Version}-setup
Compression=lzma2
SolidCompression=yes
UninstallDisplayIcon={app}\workshop-gui.exe
ChangesEnvironment=yes

[Files]
Source: "{#Dist}\workshop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
#ifdef Trust
Source: "{#Trust}\*"; DestDir: "{commonappdata}\workshop\trust"; Flags: ignoreversion recursesubdirs createallsubdirs
#endif

[Dirs]
; readable by every user, changeable only by administrators (Users get no write or create)
Name: "{commonappdata}\workshop\trust"; Permissions: users-readexec admins-full system-full

[Icons]
Name: "{group}\workshop"; Filename: "{app}\workshop-gui.exe"
Name: "{autodesktop}\workshop"; Filename: "{app}\workshop-gui.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Registry]
; `workshop` on PATH for the command line
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Check: NeedsAddPath(ExpandConstant('{app}'))

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Current: string;
begin
  if not RegQueryStringValue(HKLM, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Current) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';') = 0;
end;
