# SPDX-License-Identifier: MIT
# fish completion for pbxctl: candidates and descriptions come from `pbxctl __complete`.
function __pbxctl_complete
	set -l tokens (commandline -opc)
	set -l cur (commandline -ct)
	set -l out ($tokens[1] __complete -- $tokens[2..-1] $cur 2>/dev/null)
	or return
	set -l directive $out[-1]
	for line in $out[1..-2]
		echo $line
	end
	if test "$directive" = ":files"
		__fish_complete_path $cur
	end
end
complete -c pbxctl -f -a '(__pbxctl_complete)'
