// The kiosk's words in Chinese (the default) and English. Reason messages
// come from the server in both languages; everything else is here.

const zh = {
  title: '危化品车辆入园核查',
  'nav.lanes': '车道', 'nav.history': '历史记录', 'nav.health': '系统状态',
  signin: '登录', signout: '退出', name: '账号', password: '密码',
  'signin.failed': '账号或密码错误', 'signin.limited': '失败次数过多，请稍后再试',
  'signin.title': '操作员登录',
  role_operator: '操作员', role_supervisor: '主管',
  live: '● 实时', offline: '✖ 连接中断：画面可能不是最新',
  superseded: '⚠ 已暂停', reconnect: '在此恢复',
  'superseded.why': '本账号打开的实时窗口过多，最早打开的这个窗口已停止更新',
  lang: 'English',
  // lanes
  entry: '入口', exit: '出口',
  'phase.idle': '空闲', 'phase.collecting': '采集证据', 'phase.deciding': '核查中',
  'phase.held': '等待处理', 'phase.open': '放行通过中', 'phase.refused': '已拒绝放行',
  lastVehicle: '上一辆车', noVehicle: '无车辆',
  parkInside: '园区内危化品车辆', vehicles: '辆', parkEmpty: '园区内暂无车辆', parkMore: '另有车辆未列出：',
  since: '入园时间', stay: '已停留', gateLane: '入园道口',
  plate: '车牌', trailer: '挂车', unconfirmed: '识别未确认',
  driver: '驾驶员', escort: '押运员', waybill: '电子运单', notPresented: '未刷卡', notScanned: '未扫描',
  idNo: '证件号', face: '人脸比对', faceWaiting: '比对中…', faceNone: '无结果',
  'verdict.pass': '✔ 通过', 'verdict.reject': '✖ 拒绝进入', 'verdict.review': '⚠ 待人工审核',
  'verdict.none': '尚未判定',
  'state.pass': '✔ 通过', 'state.fail': '✖ 不通过', 'state.unknown': '? 无法确认',
  'state.waiting': '… 等待证据', 'state.ready': '○ 证据齐全', 'state.running': '⟳ 核查中',
  waitingFor: '等待：',
  'missing.plate': '车牌', 'missing.driver_card': '驾驶员身份证', 'missing.driver_face': '驾驶员人脸',
  'missing.escort_card': '押运员身份证', 'missing.escort_face': '押运员人脸', 'missing.waybill': '电子运单', 'missing.weight': '地磅称重', 'missing.waybill_lookup': '运单查询',
  'check.vehicle_documents': '车辆证件', 'check.personnel_qualification': '人员资格',
  'check.inspection_validity': '检验有效期', 'check.waybill_consistency': '运单一致',
  'check.tank_media': '罐体适装介质', 'check.identity': '人证核验', 'check.park_rules': '园区规定',
  barrier: '道闸', 'barrier.closed': '关闭', 'barrier.opening': '正在打开', 'barrier.open': '打开',
  'barrier.closing': '正在关闭', 'barrier.fault': '故障', 'barrier.unknown': '状态未知', 'barrier.': '无反馈',
  'cmd.up': '已指令抬杆', 'cmd.down': '已指令落杆', 'cmd.unknown': '指令失败', 'cmd.': '尚未发指令',
  deadline: '剩余时间', overdue: '已超时',
  faultBadge: '✖ 故障', listSep: '、', colon: '：', parenOpen: '（', parenClose: '）',
  lockdown: '车道已封锁', deviceFault: '设备故障：',
  // decisions
  reason: '原因（必填）', release: '放行', refuse: '拒绝放行',
  reasonRequired: '请填写原因', sent: '已提交，等待车道记录…',
  supervisorOnly: '拒绝进入的车辆只能由主管处理',
  releasing: '放行正在记录…',
  plateEntry: '手工录入车牌', plateSubmit: '提交车牌',
  stay: '停留',
  // lockdown
  'lockdown.on': '全部封锁', 'lockdown.off': '解除封锁',
  'lockdown.banner': '⊘ 封锁中：所有道闸保持关闭，直到解除',
  'lockdown.supervisor': '（需主管解除）',
  'lockdown.confirm.on': '封锁所有车道', 'lockdown.confirm.off': '解除所有车道的封锁',
  // evacuation
  'evac.on': '紧急疏散', 'evac.off': '结束疏散', evacuation: '紧急疏散：道闸抬起',
  'evac.entry': '紧急疏散：入场关闭', 'phase.evacuating': '疏散中',
  'evac.banner': '⚠ 紧急疏散：所有出场道闸保持抬起，入场车道关闭',
  'evac.by.office': '（安全办公室签名指令启动：仅签名指令可结束）',
  'evac.by.kiosk': '（值班台主管启动：仅主管可在值班台结束）',
  'evac.confirm.on': '启动紧急疏散：抬起所有出场道闸并保持，关闭入场车道',
  'evac.confirm.off': '结束紧急疏散：出场道闸在安全线圈空出后关闭',
  confirm: '确认', cancel: '取消',
  // history
  search: '查询', idNumber: '身份证号', verdict: '结论', date: '日期', any: '全部',
  export: '导出当日 CSV', exportNeedsDate: '导出前请选择日期',
  time: '时间', lane: '车道', failed: '不通过项', results: '条记录', noResults: '没有找到记录',
  // inspection
  inspection: '检查记录', evidence: '证据', checks: '核查项', decisions: '操作员处理',
  audit: '审计记录', arrived: '到达', decided: '判定', decidedBy: '判定者', timings: '各步骤用时（自到达起）',
  noDecisions: '无人工处理', deadlineExceeded: '超过检查时限', back: '返回',
  cardValid: '证件有效期', actor: '操作者', action: '操作', detail: '详情',
  'action.release': '放行', 'action.refuse': '拒绝放行',
  'direction.in': '入场', 'direction.out': '出场', hash: '校验值', yes: '是', no: '否',
  'actor.system': '系统自动', 'actor.operator': '操作员', 'actor.remote': '安全管理中心',
  'step.plate': '车牌识别', 'step.driver_card': '驾驶员刷卡', 'step.driver_face': '驾驶员人脸比对',
  'step.escort_card': '押运员刷卡', 'step.escort_face': '押运员人脸比对', 'step.waybill': '运单扫描', 'step.weight': '地磅称重', 'step.waybill_lookup': '运单查询', 'step.decided': '判定',
  'audit.inspection.decided': '系统判定', 'audit.kiosk.release': '在终端放行', 'audit.kiosk.refuse': '在终端拒绝放行',
  'audit.decision.release': '记录放行决定', 'audit.decision.refuse': '记录拒绝放行决定', 'audit.passage.recorded': '记录通行',
  'audit.alarm.raised': '报警', 'audit.media.purged': '清除过期图像',
  'field.lane': '车道', 'field.direction': '方向', 'field.plate': '车牌', 'field.trailer': '挂车', 'field.verdict': '结论',
  'field.failed': '不通过项', 'field.reason': '原因', 'field.action': '处理', 'field.entry': '入场记录', 'field.stay_s': '停留',
  'field.camera_plate': '相机识别车牌', 'field.kind': '类型', 'field.detail': '详情', 'field.error': '错误',
  'field.date': '日期', 'field.rows': '行数', 'field.on': '封锁', 'field.lanes': '车道', 'field.waybill': '运单',
  outcome: '处理结果', 'outcome.passed': '自动放行', 'outcome.pending': '待处理',
  'outcome.released': '人工放行', 'outcome.refused': '拒绝放行',
  // health
  'health.title': '系统状态', devices: '设备', broker: 'MQTT 连接', outbox: '待发送消息',
  registry: '登记库', disk: '磁盘空间', lanes: '车道道闸',
  'status.ok': '✔ 正常', 'status.warn': '⚠ 注意', 'status.fault': '✖ 故障', 'status.unknown': '? 未上报',
  notReported: '未接入，无法确认', connected: '已连接', disconnected: '未连接',
  depth: '条待发送', oldest: '最早一条已等待', version: '版本', synced: '最后同步', age: '已过去',
  free: '可用', of: '共', verifyAudit: '校验审计链', auditOK: '✔ 审计链完整', auditBad: '✖ 审计链被篡改：',
  lockouts: '登录锁定', noLockouts: '没有被锁定的账号或地址', account: '账号', address: '来源地址',
  failures: '失败次数', until: '锁定至', anyAccount: '（所有账号）', unlock: '解除锁定',
  'unlock.confirm': '解除账号的登录锁定（所有来源地址）：', unlocked: '已解除锁定',
  seconds: '秒', minutes: '分钟', hours: '小时',
  error: '出错了：',
};

const en = {
  title: 'Hazmat gate',
  'nav.lanes': 'Lanes', 'nav.history': 'History', 'nav.health': 'Health',
  signin: 'Sign in', signout: 'Sign out', name: 'Account', password: 'Password',
  'signin.failed': 'Wrong account or password', 'signin.limited': 'Too many failures: try again later',
  'signin.title': 'Operator sign-in',
  role_operator: 'Operator', role_supervisor: 'Supervisor',
  live: '● Live', offline: '✖ Disconnected: the screen may be out of date',
  superseded: '⚠ Paused', reconnect: 'Resume here',
  'superseded.why': 'This account has more live windows open than the kiosk keeps: this one, the oldest, stopped updating',
  lang: '中文',
  entry: 'Entry', exit: 'Exit',
  'phase.idle': 'Idle', 'phase.collecting': 'Collecting evidence', 'phase.deciding': 'Checking',
  'phase.held': 'Waiting for operator', 'phase.open': 'Passing through', 'phase.refused': 'Refused',
  lastVehicle: 'Last vehicle', noVehicle: 'No vehicle',
  parkInside: 'Hazmat vehicles inside the park:', vehicles: '', parkEmpty: 'No vehicle inside the park', parkMore: 'More not listed: ',
  since: 'Entered', stay: 'Inside for', gateLane: 'Came in at',
  plate: 'Plate', trailer: 'Trailer', unconfirmed: 'Read not confirmed',
  driver: 'Driver', escort: 'Escort', waybill: 'Waybill', notPresented: 'No card yet', notScanned: 'Not scanned',
  idNo: 'ID', face: 'Face match', faceWaiting: 'matching…', faceNone: 'no score',
  'verdict.pass': '✔ Pass', 'verdict.reject': '✖ Reject', 'verdict.review': '⚠ Review',
  'verdict.none': 'Not decided yet',
  'state.pass': '✔ Pass', 'state.fail': '✖ Fail', 'state.unknown': '? Unknown',
  'state.waiting': '… Waiting', 'state.ready': '○ Ready', 'state.running': '⟳ Checking',
  waitingFor: 'Waiting for: ',
  'missing.plate': 'plate', 'missing.driver_card': "driver's card", 'missing.driver_face': "driver's face",
  'missing.escort_card': "escort's card", 'missing.escort_face': "escort's face", 'missing.waybill': 'waybill', 'missing.weight': 'weighbridge weight', 'missing.waybill_lookup': 'waybill lookup',
  'check.vehicle_documents': 'Vehicle documents', 'check.personnel_qualification': 'Personnel qualification',
  'check.inspection_validity': 'Inspection validity', 'check.waybill_consistency': 'Waybill consistency',
  'check.tank_media': 'Tank media', 'check.identity': 'Identity', 'check.park_rules': 'Park rules',
  barrier: 'Barrier', 'barrier.closed': 'closed', 'barrier.opening': 'opening', 'barrier.open': 'open',
  'barrier.closing': 'closing', 'barrier.fault': 'fault', 'barrier.unknown': 'state unknown', 'barrier.': 'no feedback',
  'cmd.up': 'commanded up', 'cmd.down': 'commanded down', 'cmd.unknown': 'command failed', 'cmd.': 'not commanded yet',
  deadline: 'Time left', overdue: 'Overdue',
  faultBadge: '✖ Fault', listSep: ', ', colon: ': ', parenOpen: ' (', parenClose: ')',
  lockdown: 'Lane locked down', deviceFault: 'Device fault: ',
  reason: 'Reason (required)', release: 'Release', refuse: 'Refuse',
  reasonRequired: 'A reason is required', sent: 'Sent: waiting for the lane to record it…',
  supervisorOnly: 'Only a supervisor may decide a rejected vehicle',
  releasing: 'Release being recorded…',
  plateEntry: 'Type the plate', plateSubmit: 'Submit plate',
  stay: 'Stayed',
  'lockdown.on': 'Lock down', 'lockdown.off': 'Lift lock-down',
  'lockdown.banner': '⊘ Locked down: every barrier stays closed until lifted',
  'lockdown.supervisor': '(a supervisor lifts it)',
  'lockdown.confirm.on': 'Lock down every lane', 'lockdown.confirm.off': 'Lift the lock-down of every lane',
  'evac.on': 'Evacuate', 'evac.off': 'End evacuation', evacuation: 'Evacuation: barrier up',
  'evac.entry': 'Evacuation: entry closed', 'phase.evacuating': 'Evacuating',
  'evac.banner': '⚠ Evacuation: every exit barrier held open, entry lanes closed',
  'evac.by.office': '(started by the safety office\'s signed command: only a signed command ends it)',
  'evac.by.kiosk': '(started by a kiosk supervisor: only a supervisor at the kiosk ends it)',
  'evac.confirm.on': 'Start the evacuation: raise and hold every exit barrier, close the entry lanes',
  'evac.confirm.off': 'End the evacuation: exit barriers close once their safety loop is clear',
  confirm: 'Confirm', cancel: 'Cancel',
  search: 'Search', idNumber: 'ID number', verdict: 'Verdict', date: 'Date', any: 'Any',
  export: "Export the day's CSV", exportNeedsDate: 'Choose a date to export',
  time: 'Time', lane: 'Lane', failed: 'Failed checks', results: 'records', noResults: 'No records found',
  inspection: 'Inspection', evidence: 'Evidence', checks: 'Checks', decisions: 'Operator decisions',
  audit: 'Audit trail', arrived: 'Arrived', decided: 'Decided', decidedBy: 'Decided by', timings: 'Step times (from arrival)',
  noDecisions: 'No operator decision', deadlineExceeded: 'Deadline exceeded', back: 'Back',
  cardValid: 'Card valid', actor: 'Actor', action: 'Action', detail: 'Detail',
  'action.release': 'Released', 'action.refuse': 'Refused',
  'direction.in': 'entry', 'direction.out': 'exit', hash: 'Hash', yes: 'yes', no: 'no',
  'actor.system': 'System', 'actor.operator': 'Operator', 'actor.remote': 'Safety office',
  'step.plate': 'Plate read', 'step.driver_card': "Driver's card", 'step.driver_face': "Driver's face match",
  'step.escort_card': "Escort's card", 'step.escort_face': "Escort's face match", 'step.waybill': 'Waybill scanned', 'step.weight': 'Weighed', 'step.waybill_lookup': 'Waybill looked up', 'step.decided': 'Decided',
  'audit.inspection.decided': 'Decided by the system', 'audit.kiosk.release': 'Released at the kiosk', 'audit.kiosk.refuse': 'Refused at the kiosk',
  'audit.decision.release': 'Release recorded', 'audit.decision.refuse': 'Refusal recorded', 'audit.passage.recorded': 'Passage recorded',
  'audit.alarm.raised': 'Alarm raised', 'audit.media.purged': 'Old images purged',
  'field.lane': 'Lane', 'field.direction': 'Direction', 'field.plate': 'Plate', 'field.trailer': 'Trailer', 'field.verdict': 'Verdict',
  'field.failed': 'Failed checks', 'field.reason': 'Reason', 'field.action': 'Action', 'field.entry': 'Entry', 'field.stay_s': 'Stayed',
  'field.camera_plate': 'Camera read', 'field.kind': 'Kind', 'field.detail': 'Detail', 'field.error': 'Error',
  'field.date': 'Date', 'field.rows': 'Rows', 'field.on': 'Lock-down', 'field.lanes': 'Lanes', 'field.waybill': 'Waybill',
  outcome: 'Outcome', 'outcome.passed': 'Passed', 'outcome.pending': 'Pending',
  'outcome.released': 'Released', 'outcome.refused': 'Refused',
  'health.title': 'Health', devices: 'Devices', broker: 'MQTT connection', outbox: 'Outbox',
  registry: 'Registry', disk: 'Disk space', lanes: 'Lane barriers',
  'status.ok': '✔ OK', 'status.warn': '⚠ Warning', 'status.fault': '✖ Fault', 'status.unknown': '? Not reported',
  notReported: 'not connected: cannot tell', connected: 'connected', disconnected: 'not connected',
  depth: 'waiting', oldest: 'oldest waiting for', version: 'version', synced: 'last sync', age: 'ago',
  free: 'free', of: 'of', verifyAudit: 'Verify the audit chain', auditOK: '✔ Audit chain intact', auditBad: '✖ Audit chain broken: ',
  lockouts: 'Sign-in lockouts', noLockouts: 'No account or address is locked out', account: 'Account', address: 'Address',
  failures: 'Failures', until: 'Locked until', anyAccount: '(every account)', unlock: 'Unlock',
  'unlock.confirm': 'Unlock the account from every address: ', unlocked: 'Unlocked',
  seconds: 's', minutes: 'min', hours: 'h',
  error: 'Error: ',
};

// The health page's words (issue 10.6: column headers, "N minutes ago",
// device kinds). Kept in a block of their own.
Object.assign(zh, {
  'hcol.status': '状态', 'hcol.device': '设备', 'hcol.kind': '类型', 'hcol.lane': '车道', 'hcol.state': '情况',
  'hcol.since': '自', 'hcol.gateWide': '全闸口', 'hcol.phase': '车道状态', 'hcol.barrier': '道闸（指令）',
  'hcol.lockdown': '封锁', 'hcol.faults': '故障设备',
  'hkind.idcard': '身份证阅读器', 'hkind.scanner': '运单扫描枪', 'hkind.gpio': '地感与道闸接口',
  'hkind.camera': '摄像机', 'hkind.facematch': '人脸比对服务',
  'hstate.ok': '正常', 'hstate.fault': '故障',
  'hreg.never': '从未同步：需要登记库的检查均为未知，车辆待人工复核',
  'hclock.title': '闸口时钟', 'hclock.synced': '已同步', 'hclock.checked': '最后检查',
  'hclock.kernel_unsynced': '未通过 NTP 同步：有效期无法判断，车辆均待人工复核',
  'hclock.before_trusted_after': '早于配置的可信日期：有效期无法判断，车辆均待人工复核',
  'hclock.source_failed': '无法读取同步状态：有效期无法判断，车辆均待人工复核',
  'hclock.not_checked': '尚未检查',
  'ago.second': '{n} 秒前', 'ago.seconds': '{n} 秒前', 'ago.minute': '{n} 分钟前', 'ago.minutes': '{n} 分钟前',
  'ago.hour': '{n} 小时前', 'ago.hours': '{n} 小时前', 'ago.day': '{n} 天前', 'ago.days': '{n} 天前',
});
Object.assign(en, {
  'hcol.status': 'Status', 'hcol.device': 'Device', 'hcol.kind': 'Kind', 'hcol.lane': 'Lane', 'hcol.state': 'State',
  'hcol.since': 'Since', 'hcol.gateWide': 'Whole gate', 'hcol.phase': 'Lane state', 'hcol.barrier': 'Barrier (command)',
  'hcol.lockdown': 'Lock-down', 'hcol.faults': 'Devices in fault',
  'hkind.idcard': 'ID-card reader', 'hkind.scanner': 'Waybill scanner', 'hkind.gpio': 'Loop and barrier I/O',
  'hkind.camera': 'Camera', 'hkind.facematch': 'Face-match service',
  'hstate.ok': 'OK', 'hstate.fault': 'Fault',
  'hreg.never': 'Never synced: checks that need the registry are unknown, and vehicles are held for review',
  'hclock.title': 'Gate clock', 'hclock.synced': 'synchronised', 'hclock.checked': 'last looked at',
  'hclock.kernel_unsynced': 'Not synchronised by NTP: validity dates cannot be judged and every vehicle is held for review',
  'hclock.before_trusted_after': 'Reads before clock.trusted_after: validity dates cannot be judged and every vehicle is held for review',
  'hclock.source_failed': 'Its sync status cannot be read: validity dates cannot be judged and every vehicle is held for review',
  'hclock.not_checked': 'Not looked at yet',
  'ago.second': '{n} second ago', 'ago.seconds': '{n} seconds ago', 'ago.minute': '{n} minute ago', 'ago.minutes': '{n} minutes ago',
  'ago.hour': '{n} hour ago', 'ago.hours': '{n} hours ago', 'ago.day': '{n} day ago', 'ago.days': '{n} days ago',
});

// The driver-facing devices (docs/devices.md "Voice board", "Outdoor display").
Object.assign(zh, { 'hkind.voice': '语音播报器', 'hkind.display': '室外显示屏' });
Object.assign(en, { 'hkind.voice': 'Voice board', 'hkind.display': 'Outdoor display' });

// The face comparison by eye (faces.js): issue 18.
Object.assign(zh, {
  faceCompare: '人证对比', faceLive: '现场抓拍', faceCard: '身份证照片', faceNoImage: '无图像',
  facesLoading: '正在读取人脸图像…', facesNone: '本次核查没有保存人脸图像',
  facesPurged: '人脸图像已按保留期限清除', 'sex.M': '男', 'sex.F': '女', born: '{y}年生',
  // plate camera (plates.js)
  plateSeen: '车牌识别', placardSeen: '危险品标志', placardNotSeen: '未见危险品标志',
  'plateColor.blue': '蓝牌', 'plateColor.yellow': '黄牌', 'plateColor.black': '黑牌', 'plateColor.white': '白牌',
  'plateColor.green': '绿牌', 'plateColor.yellow_green': '黄绿牌',
  platePictures: '车牌识别图片', 'platePicture.plate': '车牌特写', 'platePicture.plate_scene': '车辆全景',
  platePicturesLoading: '正在读取车牌图片…', platePicturesNone: '本次核查没有保存车牌图片',
  platePicturesPurged: '车牌图片已按保留期限清除', 'audit.plate_picture.viewed': '查看车牌图片',
  'audit.face.viewed': '查看人脸图像', 'field.image': '图像',
  'image.face_driver': '驾驶员现场抓拍', 'image.card_driver': '驾驶员身份证照片',
  'image.face_escort': '押运员现场抓拍', 'image.card_escort': '押运员身份证照片',
  'image.plate': '车牌特写', 'image.plate_scene': '车辆全景',
});
Object.assign(en, {
  faceCompare: 'Face against ID card', faceLive: 'Live snapshot', faceCard: 'ID card photo', faceNoImage: 'No image',
  facesLoading: 'Reading the face images…', facesNone: 'No face images were kept for this inspection',
  facesPurged: 'The face images were purged after the retention period', 'sex.M': 'male', 'sex.F': 'female', born: 'born {y}',
  // plate camera (plates.js)
  plateSeen: 'Plate camera', placardSeen: 'Danger placard', placardNotSeen: 'No danger placard seen',
  'plateColor.blue': 'Blue plate', 'plateColor.yellow': 'Yellow plate', 'plateColor.black': 'Black plate', 'plateColor.white': 'White plate',
  'plateColor.green': 'Green plate', 'plateColor.yellow_green': 'Yellow-green plate',
  platePictures: 'Plate camera pictures', 'platePicture.plate': 'Plate close-up', 'platePicture.plate_scene': 'Vehicle scene',
  platePicturesLoading: 'Reading the plate pictures…', platePicturesNone: 'No plate pictures were kept for this inspection',
  platePicturesPurged: 'The plate pictures were purged after the retention period', 'audit.plate_picture.viewed': 'Plate picture viewed',
  'audit.face.viewed': 'Face image viewed', 'field.image': 'Image',
  'image.face_driver': "driver's live snapshot", 'image.card_driver': "driver's ID card photo",
  'image.face_escort': "escort's live snapshot", 'image.card_escort': "escort's ID card photo",
  'image.plate': 'plate close-up', 'image.plate_scene': 'vehicle scene',
});

// How the waybill was found (issue 16): on the lane card and the
// inspection page; {n} is the plate's waybill a scan overrode.
Object.assign(zh, {
  'waybill.by_plate': '按车牌调取，无需扫码', 'waybill.overrode': '以扫码为准（按车牌调取的是 {n}）',
  waybillSource: '运单来源', 'waybillSource.scanned': '扫码', 'waybillSource.by_plate': '按车牌调取（未扫码）',
  'waybillSource.overrode': '扫码；与按车牌调取的运单 {n} 不同，按扫码的运单核查',
});
Object.assign(en, {
  'waybill.by_plate': 'Found from the plate: no scan needed', 'waybill.overrode': "The scan wins (the plate's was {n})",
  waybillSource: 'How the waybill was found', 'waybillSource.scanned': 'Scanned', 'waybillSource.by_plate': 'Found from the plate (no scan)',
  'waybillSource.overrode': 'Scanned: not {n}, the one found from the plate; the scanned one was judged',
});

// The gate's recent log on the health page (supervisors only).
Object.assign(zh, {
  logLines: '最近日志（最新在上）', noLogLines: '还没有日志', logNotReported: '本闸口未接入日志',
  'level.DEBUG': '调试', 'level.INFO': '信息', 'level.WARN': '警告', 'level.ERROR': '错误',
});
Object.assign(en, {
  logLines: 'Recent log (newest first)', noLogLines: 'Nothing logged yet', logNotReported: 'this gate does not report its log',
  'level.DEBUG': 'debug', 'level.INFO': 'info', 'level.WARN': 'warning', 'level.ERROR': 'error',
});

// The day's expected arrivals and their pre-clearance (arrivals.js).
Object.assign(zh, {
  'nav.arrivals': '今日预约', 'arrivals.title': '预计到达车辆及预检结果',
  'arrivals.note': '预检按预约提前核查车辆证件、检验有效期、运单与罐体适装介质，仅供提前告知：车辆到达时所有项目重新检查。',
  'arrivals.window': '预约时段', 'arrivals.company': '目的企业', 'arrivals.carrier': '承运单位', 'arrivals.cargo': '货物',
  'arrivals.preclearance': '预检结果', 'arrivals.none': '当日没有预约', 'arrivals.count': '个预约',
  'arrivals.notYet': '尚未预检', 'arrivals.notJudged': '不预检', 'arrivals.judged': '预检于', 'arrivals.clockUnsynced': '时钟未同步',
  'pre.pass': '✔ 预检通过', 'pre.reject': '✖ 预检不通过', 'pre.review': '⚠ 预检无法确认',
  'appt.pending': '待审批', 'appt.cancelled': '已取消', 'appt.rejected': '已驳回',
});
Object.assign(en, {
  'nav.arrivals': 'Arrivals', 'arrivals.title': 'Expected arrivals and their pre-clearance',
  'arrivals.note': 'A pre-clearance judges the vehicle documents, inspection validity, waybill and tank media ahead of the appointment; it is advance notice only: every check is judged again when the vehicle arrives.',
  'arrivals.window': 'Window', 'arrivals.company': 'Destination', 'arrivals.carrier': 'Carrier', 'arrivals.cargo': 'Cargo',
  'arrivals.preclearance': 'Pre-clearance', 'arrivals.none': 'No appointments that day', 'arrivals.count': 'appointments',
  'arrivals.notYet': 'Not pre-cleared yet', 'arrivals.notJudged': 'Not pre-cleared', 'arrivals.judged': 'judged at', 'arrivals.clockUnsynced': 'clock not synchronised',
  'pre.pass': '✔ Pre-cleared', 'pre.reject': '✖ Pre-clearance failed', 'pre.review': '⚠ Pre-clearance unsure',
  'appt.pending': 'pending approval', 'appt.cancelled': 'cancelled', 'appt.rejected': 'rejected',
});

const dicts = { zh, en };

let lang = 'zh';
try {
  if (localStorage.getItem('hazgate.lang') === 'en') lang = 'en';
} catch (e) { /* storage may be off: stay in Chinese */ }

/** The current language, "zh" or "en". */
export function language() { return lang; }

/** Switches the language and remembers it. */
export function setLanguage(l) {
  lang = l === 'en' ? 'en' : 'zh';
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  try { localStorage.setItem('hazgate.lang', lang); } catch (e) { /* not remembered */ }
}

/** The word for key in the current language (the key itself when unknown). */
export function t(key) {
  const d = dicts[lang];
  return key in d ? d[key] : (key in zh ? zh[key] : key);
}

/** A list of words joined as the current language joins them (、 or ", "). */
export function list(items) { return items.join(t('listSep')); }

/** s in brackets as the current language writes them: （s） or " (s)". */
export function paren(s) { return t('parenOpen') + s + t('parenClose'); }

/** A server message {zh, en} in the current language. */
export function msg(m) {
  if (!m) return '';
  return lang === 'en' ? (m.en || m.zh || '') : (m.zh || m.en || '');
}
