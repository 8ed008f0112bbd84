// One table: API error code -> message in zh-CN and en, with {placeholders} filled from the
// error's details. Unknown codes fall back to the HTTP status's message, then to the server's
// own text. Codes come from the services' READMEs (identity, customers, pool, visits, notify)
// and the gateway (errors.py, session.py).

export type Locale = 'zh-CN' | 'en'

export interface ApiErrorBody {
  code: string
  message?: string
  details?: Record<string, unknown>
}

type Entry = { 'zh-CN': string; en: string }

export const ERROR_MESSAGES: Record<string, Entry> = {
  // sign-in (every refusal reason in plain words)
  'login.unknown_account': {
    'zh-CN': '登录信息异常：没有这个员工账号，请核对企业代码和手机号，使用员工账号登录',
    en: 'No employee account with this mobile in this organisation: check the tenant code and the number',
  },
  'login.not_joined': {
    'zh-CN': '登录信息异常：您还未加入组织，请先接受邀请加入组织',
    en: 'You have not joined the organisation yet: accept the invitation first',
  },
  'login.left': {
    'zh-CN': '登录信息异常：该账号已离开组织，无法登录',
    en: 'This account has left the organisation',
  },
  'login.disabled': {
    'zh-CN': '该账号已被停用，请联系管理员',
    en: 'This account is disabled: ask your administrator',
  },
  'login.wrong_password': {
    'zh-CN': '密码错误，还可以再试 {remaining_attempts} 次',
    en: 'Wrong password: {remaining_attempts} attempts left',
  },
  'login.locked': {
    'zh-CN': '密码错误次数过多，账号已锁定，请在 {locked_until} 之后再试',
    en: 'Too many wrong passwords: the account is locked until {locked_until}',
  },
  'auth.rate_limited': {
    'zh-CN': '尝试次数过多，请 {retry_after} 秒后再试',
    en: 'Too many attempts: try again in {retry_after} s',
  },
  'token.expired': { 'zh-CN': '登录已过期，请重新登录', en: 'Your session has expired: sign in again' },
  'token.revoked': { 'zh-CN': '登录已失效，请重新登录', en: 'Your session was ended: sign in again' },
  'token.invalid': { 'zh-CN': '登录已失效，请重新登录', en: 'Your session is not valid: sign in again' },
  'auth.missing_token': { 'zh-CN': '请先登录', en: 'Please sign in' },
  'csrf.header_missing': { 'zh-CN': '请求被拒绝（安全校验失败），请刷新页面', en: 'Request refused (security check): reload the page' },
  'csrf.origin_mismatch': { 'zh-CN': '请求被拒绝（来源不符），请从本系统页面操作', en: 'Request refused: it came from another site' },
  'validation.required': { 'zh-CN': '请填写 {field}', en: '{field} is required' },
  // customers
  'customer.duplicate': {
    'zh-CN': '撞单：该客户已存在，不能重复录入',
    en: 'Duplicate: this customer already exists and cannot be entered again',
  },
  'customer.invalid': { 'zh-CN': '客户信息不完整或有误，请检查标红的字段', en: 'The customer has missing or invalid fields' },
  'contact.duplicate_mobile': {
    'zh-CN': '该手机号已是其他人的联系人（负责人：{holder_name}），请联系对方共享',
    en: 'This mobile is already a contact of {holder_name}: ask them to share it',
  },
  'contact.colleague_mobile': { 'zh-CN': '这是同事的手机号，不能添加为联系人', en: "A colleague's mobile cannot be a contact" },
  'contact.mobile_immutable': { 'zh-CN': '联系人手机号保存后不能修改，请删除后重新添加', en: 'A contact mobile cannot be changed' },
  'contact.limit_reached': { 'zh-CN': '联系人数量已达上限', en: 'The contact limit is reached' },
  // pool
  'pool.claim_lost': { 'zh-CN': '手慢了：该客户刚刚已被他人挑入', en: 'Too late: someone else has just claimed this customer' },
  'pool.already_claimed': { 'zh-CN': '该客户已被他人挑入，不在公海中', en: 'This customer is already in someone’s private pool' },
  'pool.capacity_full': {
    'zh-CN': '私海已满：已持有 {held} 个，上限 {capacity} 个，请先放弃部分客户',
    en: 'Your private pool is full: {held} of {capacity}; release some customers first',
  },
  'pool.cooldown': {
    'zh-CN': '您刚放弃过该客户，冷却期内不能挑入，{until} 之后可再挑入',
    en: 'You released this customer: you may claim it again from {until}',
  },
  'pool.daily_limit': {
    'zh-CN': '今日挑入已达上限（{claimed_today}/{limit}），请明天再来',
    en: 'Daily claim limit reached ({claimed_today}/{limit}): try again tomorrow',
  },
  'pool.protected': {
    'zh-CN': '该客户处于保护期，{until} 之前不能挑入',
    en: 'This customer is protected until {until}',
  },
  'pool.reason_required': { 'zh-CN': '请填写放弃原因', en: 'Give a reason' },
  'pool.request_duplicate': {
    'zh-CN': '撞单：查重发现已有该客户，不能申请',
    en: 'The duplicate check found an existing customer: the request cannot be made',
  },
  'pool.request_invalid': { 'zh-CN': '申请信息不完整：请填写名称、地址和座机或传真', en: 'Incomplete request: name, address and a landline or fax' },
  // visits
  'visit.policy_not_accepted': { 'zh-CN': '请先阅读并同意《拜访制度》', en: 'Read and accept the visit policy first' },
  'visit.policy_outdated': { 'zh-CN': '拜访制度已更新，请重新阅读并同意', en: 'The visit policy changed: read and accept it again' },
  'visit.projects_required': { 'zh-CN': '项目关联客户须选择至少一个项目', en: 'Choose at least one project for a vendor customer' },
  'visit.unknown_projects': { 'zh-CN': '所选项目不属于该客户', en: 'These projects are not the customer’s' },
  'visit.planned_in_past': { 'zh-CN': '不能为已过去的日期创建拜访计划', en: 'A visit cannot be planned for a past day' },
  'visit.illegal_transition': { 'zh-CN': '拜访状态已变化，请刷新后再试', en: 'The visit changed meanwhile: reload it' },
  'visit.missing_field': { 'zh-CN': '缺少位置：请填写地址或使用当前位置', en: 'Location missing: give an address or use your position' },
  'visit.check_out_before_check_in': { 'zh-CN': '签退时间早于签到时间', en: 'Check-out is before check-in' },
  'visit.not_yours': { 'zh-CN': '这不是您的拜访', en: 'This is not your visit' },
  'photo.too_large': { 'zh-CN': '照片太大，请重新拍摄', en: 'The photo is too large' },
  'photo.too_many_pixels': { 'zh-CN': '照片像素过高，请重新拍摄', en: 'The photo has too many pixels' },
  'photo.corrupt': { 'zh-CN': '照片已损坏，请重新拍摄', en: 'The photo is damaged: take it again' },
  'photo.unsupported_type': { 'zh-CN': '只支持 JPEG、PNG 或 HEIC 照片', en: 'Only JPEG, PNG or HEIC photos' },
  'photo.exif_invalid': { 'zh-CN': '照片的拍摄信息异常，请用相机重新拍摄', en: 'The photo’s EXIF data is impossible' },
  'notification.not_found': { 'zh-CN': '消息不存在', en: 'No such message' },
  // the console: organisation, assignment, pools, imports
  'console.forbidden': { 'zh-CN': '您的账号不能使用管理后台', en: 'This account cannot use the console' },
  'visit.records_forbidden': {
    'zh-CN': '您所在的部门未获授权使用"客户拜访"记录页面，请联系主账号在部门管理中授权',
    en: 'Your department has no grant for the visit records page: ask the tenant admin',
  },
  'department.not_empty': { 'zh-CN': '部门下还有子部门或成员，不能删除', en: 'The department still has sub-departments or members' },
  'department.cycle': { 'zh-CN': '不能把部门移到它自己或它的下级部门之下', en: 'A department cannot move under itself or its descendants' },
  'department.not_found': { 'zh-CN': '部门不存在', en: 'No such department' },
  'employee.last_admin': { 'zh-CN': '这是最后一个主账号，不能删除、停用或降级', en: 'This is the last tenant admin' },
  'employee.not_found': { 'zh-CN': '员工不存在', en: 'No such employee' },
  'employee.inactive': { 'zh-CN': '该员工未加入组织或已停用，不能接收客户', en: 'This employee is not active' },
  'employee.mobile_taken': { 'zh-CN': '该手机号已被本组织的其他员工使用', en: 'Another employee has this mobile' },
  'share.forbidden': { 'zh-CN': '只能共享自己（或下属）的客户', en: 'You may share only your own (or your team’s) customers' },
  'departments.forbidden': { 'zh-CN': '只有管理员可以给部门分配客户', en: 'Only an admin may assign departments' },
  'departments.outside_scope': { 'zh-CN': '只能分配到您管理的部门', en: 'Only departments you manage' },
  'customer.owner_change_forbidden': { 'zh-CN': '您无权移动该客户', en: 'You may not move this customer' },
  'customer.owner_conflict': { 'zh-CN': '该客户的负责人刚刚已变更，请刷新后再试', en: 'The owner changed meanwhile: reload' },
  'customer.owner_mismatch': { 'zh-CN': '该客户的负责人刚刚已变更，请刷新后再试', en: 'The owner changed meanwhile: reload' },
  'customer.owner_unchanged': { 'zh-CN': '该客户已由此人负责', en: 'This person already follows the customer' },
  'customer.entry_forbidden': { 'zh-CN': '销售支持账号不能录入客户', en: 'Sales support does not enter customers' },
  'customer.not_deleted': { 'zh-CN': '该客户未被删除', en: 'This customer is not deleted' },
  'custom_field.builtin': { 'zh-CN': '内置字段不能删除', en: 'A built-in field cannot be deleted' },
  'import.has_problems': { 'zh-CN': '文件还有问题，请修改后重新检测', en: 'The file still has problems: fix them and check again' },
  'import.empty': { 'zh-CN': '文件中没有数据行', en: 'The file has no rows' },
  'import.not_xlsx': { 'zh-CN': '不是有效的 xlsx 文件', en: 'Not a readable xlsx file' },
  'import.too_large': { 'zh-CN': '文件太大（最多 10 MB）', en: 'The file is too large (10 MB at most)' },
  'pool.rules_invalid': { 'zh-CN': '公海规则有误，请检查标红的字段', en: 'The pool rules are invalid' },
  'pool.rules_forbidden': { 'zh-CN': '只有主账号可以修改公海规则', en: 'Only the tenant admin changes pool rules' },
  'pool.request_decided': { 'zh-CN': '该申请已被处理', en: 'This request was already decided' },
  'pool.owner_inactive': { 'zh-CN': '该员工未加入组织或已停用', en: 'This employee is not active' },
  'pool.employee_not_found': { 'zh-CN': '员工不存在，或您无权查看', en: 'No such employee, or not visible to you' },
  'invitation.invalid_token': { 'zh-CN': '邀请链接无效，请联系管理员重新邀请', en: 'The invitation link is not valid: ask for a new one' },
  'invitation.not_found': { 'zh-CN': '邀请不存在，请联系管理员重新邀请', en: 'No such invitation: ask for a new one' },
  'invitation.superseded': { 'zh-CN': '该邀请已被新的邀请取代，请使用最新的邀请链接', en: 'A newer invitation replaced this one' },
  'password.too_short': { 'zh-CN': '密码至少 8 个字符', en: 'The password needs at least 8 characters' },
  'invitation.used': { 'zh-CN': '该邀请已被使用', en: 'This invitation was already used' },
  'invitation.expired': { 'zh-CN': '该邀请已过期，请重新邀请', en: 'The invitation expired: invite again' },
  // the console: visit records, review, routes, reports, notifications (issue 15)
  'visit.criteria_not_met': { 'zh-CN': '该拜访未满足全部有效条件，不能审核为有效拜访', en: 'The visit does not meet every validity criterion: it cannot be approved' },
  'visit.reason_required': { 'zh-CN': '驳回须填写原因', en: 'A rejection needs a reason' },
  'visit.not_reviewer': { 'zh-CN': '只有销售支持或管理员可以审核拜访', en: 'Only sales support or an admin reviews visits' },
  'visit.not_supervisor': { 'zh-CN': '只能给自己的下属安排拜访或查看其日历', en: 'Only for your own team' },
  'visit.assignee_inactive': { 'zh-CN': '该员工未加入组织或已停用，不能安排拜访', en: 'This employee cannot take visits' },
  'visit.bad_range': { 'zh-CN': '日期范围有误（最多 366 天，开始不能晚于结束）', en: 'Bad range of days (366 at most, the start before the end)' },
  'settings.forbidden': { 'zh-CN': '只有主账号可以修改拜访设置', en: 'Only the tenant admin changes visit settings' },
  'settings.invalid': { 'zh-CN': '设置值有误，请检查标红的字段', en: 'A setting is invalid' },
  'settings.above_operator_limit': { 'zh-CN': '超出本系统允许的上限（最多 {max}）', en: 'Above this installation’s limit ({max})' },
  'settings.below_operator_limit': { 'zh-CN': '低于本系统允许的下限（至少 {min}）', en: 'Below this installation’s limit ({min})' },
  'report.range_too_long': { 'zh-CN': '所选范围 {days} 天，报表最多统计 {max_days} 天', en: 'The range has {days} days; a report covers {max_days} at most' },
  'report.export_range_too_long': {
    'zh-CN': '导出范围最多 {max_days} 天，当前所选 {days} 天，请缩短日期范围后再导出',
    en: 'An export covers at most {max_days} days; this range has {days}: shorten it',
  },
  'report.export_not_ready': { 'zh-CN': '导出文件还在生成中，请稍候', en: 'The export is not ready yet' },
  'report.bad_range': { 'zh-CN': '结束日期不能早于开始日期', en: 'The end is before the start' },
  'report.settings_forbidden': { 'zh-CN': '只有主账号可以设置拜访频次目标', en: 'Only the tenant admin sets the cadence' },
  'report.bad_cadence': { 'zh-CN': '拜访频次目标有误', en: 'The cadence is invalid' },
  'report.employee_not_found': { 'zh-CN': '该员工不存在，或不在您的查看范围内', en: 'No such person, or not yours to see' },
  'report.department_not_found': { 'zh-CN': '该部门不存在，或不在您的查看范围内', en: 'No such department, or not yours to see' },
  'route.bad_stops': { 'zh-CN': '路线须有 1–50 个客户', en: 'A route has 1–50 customers' },
  'route.stops_without_location': { 'zh-CN': '路线中有客户没有位置，无法计算或排程', en: 'A stop has no location' },
  'route.bad_schedule': { 'zh-CN': '排程的日期或时间有误', en: 'Bad date or time' },
  'route.not_found': { 'zh-CN': '路线不存在', en: 'No such route' },
  'webhook.url_invalid': { 'zh-CN': 'Webhook 地址须为 http(s) 网址', en: 'The webhook URL must be http(s)' },
  'webhook.url_unresolvable': { 'zh-CN': 'Webhook 地址的主机名无法解析', en: 'The webhook host does not resolve' },
  'webhook.url_not_allowed': { 'zh-CN': '不允许向内网或保留地址推送', en: 'Private and reserved addresses are not allowed' },
  'webhook.not_found': { 'zh-CN': 'Webhook 不存在', en: 'No such webhook' },
  'dead_letter.not_found': { 'zh-CN': '该死信不存在或已重新发送', en: 'No such dead letter (or resent already)' },
  'settings.invalid_smtp': { 'zh-CN': 'SMTP 设置不完整或有误：服务器、端口和发件地址必填', en: 'The SMTP settings are incomplete or invalid' },
  'notify.admin_only': { 'zh-CN': '只有主账号可以管理通知渠道', en: 'Only the tenant admin manages channels' },
  // the device and the network
  'geo.denied': { 'zh-CN': '未获得定位权限，请在浏览器设置中允许定位', en: 'Location permission denied' },
  'geo.unavailable': { 'zh-CN': '无法获取当前位置，请到开阔处重试', en: 'Your position is not available' },
  'geo.timeout': { 'zh-CN': '定位超时，请重试', en: 'Locating timed out: try again' },
  'geo.unsupported': { 'zh-CN': '此浏览器不支持定位', en: 'This browser cannot locate you' },
  network: { 'zh-CN': '网络连接失败，请检查网络后重试', en: 'Network failure: check your connection and retry' },
}

/** Problems of one field (details.errors[].code, identity's validation.* codes, the gateway's
 *  request models); the server's own text when a code has no entry. */
export const FIELD_MESSAGES: Record<string, Entry> = {
  required: { 'zh-CN': '必填', en: 'Required' },
  'validation.required': { 'zh-CN': '必填', en: 'Required' },
  too_long: { 'zh-CN': '内容太长', en: 'Too long' },
  'validation.too_long': { 'zh-CN': '内容太长', en: 'Too long' },
  'validation.too_short': { 'zh-CN': '内容太短', en: 'Too short' },
  type: { 'zh-CN': '格式不正确', en: 'Wrong type' },
  'validation.type': { 'zh-CN': '格式不正确', en: 'Wrong type' },
  'validation.format': { 'zh-CN': '格式不正确', en: 'Wrong format' },
  'validation.enum': { 'zh-CN': '不是可选的值', en: 'Not one of the choices' },
  'validation.range': { 'zh-CN': '超出允许的范围', en: 'Out of range' },
  'validation.unknown_field': { 'zh-CN': '未知字段', en: 'Unknown field' },
  illegal_characters: { 'zh-CN': '含有非法字符', en: 'Contains illegal characters' },
  'validation.characters': { 'zh-CN': '含有非法字符', en: 'Contains illegal characters' },
  invalid_phone: { 'zh-CN': '不是有效的电话号码', en: 'Not a phone number' },
  'validation.mobile': { 'zh-CN': '不是有效的手机号', en: 'Not a mobile number' },
  invalid_coordinate: { 'zh-CN': '坐标超出范围', en: 'Coordinate out of range' },
  too_many: { 'zh-CN': '数量太多', en: 'Too many' },
  invalid_date: { 'zh-CN': '不是有效的日期', en: 'Not a date' },
  phone_required: { 'zh-CN': '座机、传真、手机至少填写一个', en: 'Give a landline, fax or mobile' },
}

export function fieldMessage(code: string, serverText: string, locale: Locale): string {
  const entry = FIELD_MESSAGES[code]
  return entry ? entry[locale] : serverText || code
}

/** Messages by HTTP status when a code has no entry of its own. */
export const STATUS_MESSAGES: Record<number, Entry> = {
  400: { 'zh-CN': '输入有误，请检查后重试', en: 'Invalid input' },
  401: { 'zh-CN': '请重新登录', en: 'Please sign in again' },
  403: { 'zh-CN': '没有权限执行此操作', en: 'You are not allowed to do this' },
  404: { 'zh-CN': '找不到该记录，或您无权查看', en: 'Not found, or not visible to you' },
  409: { 'zh-CN': '数据已被他人修改或已存在', en: 'Conflict: it changed or already exists' },
  413: { 'zh-CN': '文件太大', en: 'Too large' },
  415: { 'zh-CN': '不支持的文件类型', en: 'Unsupported file type' },
  422: { 'zh-CN': '不符合业务规则', en: 'Not allowed by the business rules' },
  429: { 'zh-CN': '操作太频繁，请稍后再试', en: 'Too many requests: wait a moment' },
  500: { 'zh-CN': '服务器出错了，请稍后再试', en: 'Server error: try again later' },
  503: { 'zh-CN': '服务暂时不可用，请稍后再试', en: 'The service is unavailable: try again shortly' },
  504: { 'zh-CN': '服务响应超时，请稍后再试', en: 'The service timed out: try again' },
}

function fill(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name]
    if (v === undefined || v === null || v === '') return '—'
    return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? localTime(v) : String(v)
  })
}

/** An ISO instant as local "YYYY-MM-DD HH:mm" (for lock and cool-down times). */
export function localTime(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

/** Values for the placeholders: the details, flattened one level (holder.owner_name -> holder_name). */
function values(details: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(details ?? {}) }
  const holder = details?.holder as Record<string, unknown> | undefined
  if (holder && typeof holder === 'object') out.holder_name = holder.owner_name ?? holder.name ?? ''
  return out
}

export function errorMessage(error: ApiErrorBody, status: number, locale: Locale): string {
  const entry = ERROR_MESSAGES[error.code]
  if (entry) return fill(entry[locale], values(error.details))
  const byStatus = STATUS_MESSAGES[status] ?? (status >= 500 ? STATUS_MESSAGES[500] : undefined)
  if (byStatus) return byStatus[locale]
  return error.message || error.code
}
