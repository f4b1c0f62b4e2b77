// The options of a settings table (lib/util/settings.ts FlagSetting): each flag with its variable, whether it is
// required and its default in --help. The value itself is read and checked by the table's parser, not by commander,
// so a flag and its variable are checked by the same code.
import type { Command } from 'commander';
import type { FlagSetting } from '../util/settings.ts';

export function addSettingOptions(command: Command, table: Readonly<Record<string, FlagSetting>>): Command {
  for (const setting of Object.values(table)) {
    const notes = [
      setting.env,
      ...(setting.required ? ['required'] : []),
      ...(setting.default !== undefined ? [`default ${setting.default}`] : []),
    ];
    command.option(`${setting.flag} <${setting.arg}>`, `${setting.help} [${notes.join('; ')}]`);
  }
  return command;
}
